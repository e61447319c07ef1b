//! IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed.
//!
//! An IDX file is a big-endian header, `0x00 0x00 <type> <ndims>` then one
//! `u32` per dimension, followed by the data in row-major order. Only the
//! unsigned-byte type (`0x08`) is read here: it is what (Fashion-)MNIST uses.
//! A gzip file (magic `1f 8b`) is decompressed first, whatever its name.
//!
//! Every error names the file and says what is wrong with it.

use std::io::Read;
use std::path::{Path, PathBuf};

/// An IDX file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum IdxError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a valid gzip stream: {source}", path.display())]
    Gzip {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not an IDX file: {reason}", path.display())]
    Header { path: PathBuf, reason: String },
    #[error("{}: truncated: the header announces {expected} data bytes, the file has {actual}", path.display())]
    Truncated {
        path: PathBuf,
        expected: usize,
        actual: usize,
    },
    #[error("{}: {extra} bytes after the data the header announces (corrupt or not this file?)", path.display())]
    TrailingBytes { path: PathBuf, extra: usize },
    #[error("{}: {reason}", path.display())]
    Content { path: PathBuf, reason: String },
}

/// The data of an IDX file of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimensions, outermost first (`[n, rows, cols]` for images, `[n]` for labels).
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

impl IdxArray {
    /// Number of items (the first dimension).
    pub fn len(&self) -> usize {
        self.dims.first().copied().unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes per item (product of the other dimensions).
    pub fn item_size(&self) -> usize {
        self.dims.iter().skip(1).product()
    }
}

/// The IDX element type `0x08`: unsigned byte.
const TYPE_U8: u8 = 0x08;

/// Reads an IDX file of unsigned bytes (gzip or plain).
pub fn read_idx(path: &Path) -> Result<IdxArray, IdxError> {
    let raw = std::fs::read(path).map_err(|source| IdxError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_idx(path, &raw)
}

/// Parses the bytes of an IDX file (gzip or plain); `path` is only used in
/// errors.
pub fn parse_idx(path: &Path, raw: &[u8]) -> Result<IdxArray, IdxError> {
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 2);
        flate2::read::MultiGzDecoder::new(raw)
            .read_to_end(&mut out)
            .map_err(|source| IdxError::Gzip {
                path: path.to_path_buf(),
                source,
            })?;
        out
    } else {
        raw.to_vec()
    };
    parse_plain(path, bytes)
}

fn parse_plain(path: &Path, mut bytes: Vec<u8>) -> Result<IdxArray, IdxError> {
    let header = |reason: String| IdxError::Header {
        path: path.to_path_buf(),
        reason,
    };
    if bytes.len() < 4 {
        return Err(header(format!(
            "{} bytes, shorter than the 4-byte magic number",
            bytes.len()
        )));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(header(format!(
            "magic number {:02x} {:02x} {:02x} {:02x} does not start with 00 00",
            bytes[0], bytes[1], bytes[2], bytes[3]
        )));
    }
    if bytes[2] != TYPE_U8 {
        return Err(header(format!(
            "element type 0x{:02x}; only 0x08 (unsigned byte) is supported",
            bytes[2]
        )));
    }
    let ndims = bytes[3] as usize;
    if ndims == 0 {
        return Err(header("0 dimensions".into()));
    }
    let header_len = 4 + 4 * ndims;
    if bytes.len() < header_len {
        return Err(header(format!(
            "{ndims} dimensions need a {header_len}-byte header; the file has {} bytes",
            bytes.len()
        )));
    }
    let mut dims = Vec::with_capacity(ndims);
    let mut expected: usize = 1;
    for d in 0..ndims {
        let o = 4 + 4 * d;
        let n = u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize;
        expected = expected
            .checked_mul(n)
            .filter(|&e| e <= (1 << 40))
            .ok_or_else(|| header(format!("dimensions {dims:?}x{n}... are implausibly large")))?;
        dims.push(n);
    }
    let actual = bytes.len() - header_len;
    if actual < expected {
        return Err(IdxError::Truncated {
            path: path.to_path_buf(),
            expected,
            actual,
        });
    }
    if actual > expected {
        return Err(IdxError::TrailingBytes {
            path: path.to_path_buf(),
            extra: actual - expected,
        });
    }
    bytes.drain(..header_len);
    Ok(IdxArray { dims, data: bytes })
}

/// Writes an IDX file of unsigned bytes (plain, or gzip when `gzip`); used
/// by tests and tools that cut subsets.
pub fn encode_idx(dims: &[usize], data: &[u8], gzip: bool) -> Vec<u8> {
    let mut out = vec![0, 0, TYPE_U8, dims.len() as u8];
    for &d in dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(data);
    if gzip {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&out).expect("writing to memory");
        enc.finish().expect("writing to memory")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("/data/x-idx3-ubyte")
    }

    #[test]
    fn reads_plain_and_gzip() {
        let data: Vec<u8> = (0..24).collect();
        for gz in [false, true] {
            let a = parse_idx(p(), &encode_idx(&[2, 3, 4], &data, gz)).unwrap();
            assert_eq!(a.dims, vec![2, 3, 4]);
            assert_eq!(a.len(), 2);
            assert_eq!(a.item_size(), 12);
            assert_eq!(a.data, data);
        }
    }

    #[test]
    fn labels_have_one_dimension() {
        let a = parse_idx(p(), &encode_idx(&[3], &[1, 2, 9], false)).unwrap();
        assert_eq!(a.dims, vec![3]);
        assert_eq!(a.item_size(), 1);
    }

    fn err(bytes: &[u8]) -> String {
        let e = parse_idx(p(), bytes).unwrap_err().to_string();
        assert!(
            e.contains("/data/x-idx3-ubyte"),
            "error does not name the file: {e}"
        );
        e
    }

    #[test]
    fn corrupt_headers_are_errors_naming_the_file() {
        assert!(err(&[]).contains("shorter than the 4-byte magic"));
        assert!(err(&[0, 0]).contains("shorter"));
        assert!(err(&[1, 0, 8, 1, 0, 0, 0, 0]).contains("does not start with 00 00"));
        assert!(err(&[0, 0, 0x0d, 1, 0, 0, 0, 0]).contains("element type 0x0d"));
        assert!(err(&[0, 0, 8, 0]).contains("0 dimensions"));
        assert!(err(&[0, 0, 8, 3, 0, 0, 0, 1]).contains("16-byte header"));
        // Truncated data.
        let mut b = encode_idx(&[2, 2], &[1, 2, 3, 4], false);
        b.pop();
        let e = err(&b);
        assert!(
            e.contains("truncated") && e.contains("4 data bytes") && e.contains("has 3"),
            "{e}"
        );
        // Extra data.
        let mut b = encode_idx(&[2, 2], &[1, 2, 3, 4], false);
        b.push(0);
        assert!(err(&b).contains("1 bytes after the data"));
        // Absurd dimensions.
        assert!(
            err(&[0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255])
                .contains("implausibly large")
        );
    }

    #[test]
    fn corrupt_gzip_is_an_error_naming_the_file() {
        let mut b = encode_idx(&[4], &[1, 2, 3, 4], true);
        let n = b.len();
        b.truncate(n - 10);
        assert!(err(&b).contains("not a valid gzip stream"));
        let e = err(&[0x1f, 0x8b, 0, 0, 0]);
        assert!(e.contains("gzip"), "{e}");
    }

    #[test]
    fn missing_file_names_the_file() {
        let e = read_idx(Path::new("/no/such/dir/t10k-images-idx3-ubyte.gz"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cannot read /no/such/dir/t10k-images-idx3-ubyte.gz"),
            "{e}"
        );
    }
}
