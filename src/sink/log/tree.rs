//! The RFC 9162 Merkle tree over the records, persisted in `hashes.dat`.
//!
//! `hashes.dat` holds every tree node that is the root of a complete subtree, 32 bytes each, in
//! the "stored hash" order of the Go `tlog` package (Crosby–Wallach post-order), which
//! `tlog_tiles` implements: appending record `n` appends its leaf hash and the `trailing_ones(n)`
//! parent nodes it completes, so the file only ever grows at its end. Any tree head and any
//! inclusion or consistency proof then needs `O(log n)` reads. The file is derived data: recovery
//! rebuilds its tail from the segments, and it is what keeps leaf hashes of records whose
//! payloads retention has deleted.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
pub use tlog_tiles::{node_hash, stored_hash_count, stored_hash_index, Hash, EMPTY_HASH};

pub const HASH_LEN: u64 = 32;
pub const HASHES_FILE: &str = "hashes.dat";

/// The newest complete-subtree root at every level: enough to append leaves and to compute
/// the root of the whole tree without reading the file.
#[derive(Clone, Debug, Default)]
pub struct Frontier {
    /// `levels[i]` = the newest node at level i (valid where that node exists).
    levels: Vec<Hash>,
    size: u64,
}

impl Frontier {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends leaf `self.size()`: returns the stored hashes it creates, in file order.
    pub fn append(&mut self, leaf: Hash) -> Vec<Hash> {
        let out = self.next_hashes(leaf);
        self.push(&out);
        out
    }

    /// The stored hashes appending `leaf` would create, without changing the frontier (so a
    /// failed write leaves it untouched).
    pub fn next_hashes(&self, leaf: Hash) -> Vec<Hash> {
        let k = self.size.trailing_ones() as usize;
        let mut out = Vec::with_capacity(k + 1);
        let mut h = leaf;
        out.push(h);
        for i in 0..k {
            h = node_hash(self.levels[i], h);
            out.push(h);
        }
        out
    }

    /// Commits what [`Frontier::next_hashes`] returned.
    pub fn push(&mut self, hashes: &[Hash]) {
        if self.levels.len() < hashes.len() {
            self.levels.resize(hashes.len(), EMPTY_HASH);
        }
        self.levels[..hashes.len()].copy_from_slice(hashes);
        self.size += 1;
    }

    /// Root of the tree of all leaves appended so far (RFC 9162 MTH).
    pub fn root(&self) -> Hash {
        let n = self.size;
        if n == 0 {
            return EMPTY_HASH;
        }
        // The tree is the maximal complete subtrees for the set bits of n, left (high) to
        // right (low), folded from the right.
        let mut acc: Option<Hash> = None;
        for i in 0..64 {
            if n >> i & 1 == 1 {
                let sub = self.levels[i];
                acc = Some(match acc {
                    None => sub,
                    Some(right) => node_hash(sub, right),
                });
            }
        }
        acc.unwrap_or(EMPTY_HASH)
    }

    /// Loads the frontier of a tree of `size` leaves from stored hashes.
    pub fn load(size: u64, r: &dyn ReadHashes) -> io::Result<Frontier> {
        let mut levels = Vec::new();
        let mut i = 0u32;
        while i < 64 && (size >> i) > 0 {
            levels.push(r.read_hash(stored_hash_index(i as u8, (size >> i) - 1))?);
            i += 1;
        }
        Ok(Frontier { levels, size })
    }
}

/// Positional reads of stored hashes.
pub trait ReadHashes {
    fn read_hash(&self, index: u64) -> io::Result<Hash>;
}

/// Reads `hashes.dat` with `pread`; it also serves `tlog_tiles` proofs and tree heads.
pub struct HashFile {
    file: File,
}

impl HashFile {
    pub fn open(dir: &Path) -> io::Result<HashFile> {
        Ok(HashFile {
            file: File::open(dir.join(HASHES_FILE))?,
        })
    }
    pub fn entries(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len() / HASH_LEN)
    }
}

impl ReadHashes for HashFile {
    fn read_hash(&self, index: u64) -> io::Result<Hash> {
        let mut b = [0u8; 32];
        self.file.read_exact_at(&mut b, index * HASH_LEN)?;
        Ok(Hash(b))
    }
}

impl tlog_tiles::HashReader for HashFile {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|i| {
                self.read_hash(*i)
                    .map_err(|e| tlog_tiles::Error::InvalidInput(format!("hashes.dat: {e}")))
            })
            .collect()
    }
}

/// Encodes hashes for appending to `hashes.dat`.
pub fn hashes_bytes(h: &[Hash]) -> Vec<u8> {
    let mut v = Vec::with_capacity(h.len() * 32);
    for x in h {
        v.extend_from_slice(&x.0);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Mem(HashMap<u64, Hash>);
    impl tlog_tiles::HashReader for Mem {
        fn read_hashes(&self, idx: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
            Ok(idx.iter().map(|i| self.0[i]).collect())
        }
    }
    impl ReadHashes for Mem {
        fn read_hash(&self, index: u64) -> io::Result<Hash> {
            self.0
                .get(&index)
                .copied()
                .ok_or_else(|| io::Error::other("missing"))
        }
    }

    /// Our incremental frontier must agree with the reference stored-hash layout and
    /// tree-hash algorithm of tlog_tiles at every size.
    #[test]
    fn frontier_matches_tlog_tiles() {
        let mut f = Frontier::default();
        let mut store = Mem(HashMap::new());
        for n in 0..300u64 {
            let leaf = tlog_tiles::record_hash(&n.to_le_bytes());
            let want = tlog_tiles::stored_hashes_for_record_hash(n, leaf, &store).unwrap();
            let got = f.append(leaf);
            assert_eq!(got, want, "n={n}");
            let base = stored_hash_count(n);
            for (i, h) in got.iter().enumerate() {
                store.0.insert(base + i as u64, *h);
            }
            assert_eq!(stored_hash_count(n + 1), base + got.len() as u64);
            assert_eq!(f.root(), tlog_tiles::tree_hash(n + 1, &store).unwrap());
            let loaded = Frontier::load(n + 1, &store).unwrap();
            assert_eq!(loaded.root(), f.root());
        }
    }

    #[test]
    fn rfc_shape_for_three_leaves() {
        let l: Vec<Hash> = (0..3u8).map(|i| tlog_tiles::record_hash(&[i])).collect();
        let mut f = Frontier::default();
        for x in &l {
            f.append(*x);
        }
        assert_eq!(f.root(), node_hash(node_hash(l[0], l[1]), l[2]));
    }
}
