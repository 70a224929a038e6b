//! The kernels' one error type: raised when a matrix is built from bytes that cannot be what
//! they claim to be, or when a conversion is asked for that the kernels cannot perform.

use std::fmt;

use crate::QType;

/// Why a [`crate::QMatrix`] could not be built or converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelError {
    /// `cols` is zero or not a whole number of `qtype` blocks.
    BadCols { qtype: QType, cols: usize },
    /// The byte buffer does not hold exactly `rows x cols` elements of `qtype`.
    BadLength { qtype: QType, rows: usize, cols: usize, expected: usize, actual: usize },
    /// A shared window reaches past the end of its buffer.
    OutOfBounds { offset: usize, len: usize, buf_len: usize },
    /// `rows x cols` overflows the address space.
    TooLarge { rows: usize, cols: usize },
    /// Re-encoding into this type is not implemented (the K-quant encoders).
    CannotEncode(QType),
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelError::BadCols { qtype, cols } => write!(
                f,
                "a {} row must hold a positive multiple of {} elements, but it has {cols}",
                qtype.name(),
                qtype.block_size()
            ),
            KernelError::BadLength { qtype, rows, cols, expected, actual } => {
                write!(f, "a {rows}x{cols} {} matrix takes {expected} bytes, but {actual} were given", qtype.name())
            }
            KernelError::OutOfBounds { offset, len, buf_len } => {
                write!(f, "the bytes {offset}..{} lie outside a buffer of {buf_len} bytes", offset.saturating_add(*len))
            }
            KernelError::TooLarge { rows, cols } => write!(f, "a {rows}x{cols} matrix is too large to address"),
            KernelError::CannotEncode(to) => write!(f, "re-encoding weights as {} is not supported", to.name()),
        }
    }
}

impl std::error::Error for KernelError {}
