//! The GGUF/ggml tensor element types the kernels understand, with their block geometry.

/// A GGUF tensor type. Quantized types store elements in fixed-size blocks; the float types
/// are "blocks" of one element so that every type answers the same geometry questions.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QType {
    F32,
    F16,
    BF16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q4K,
    Q5K,
    Q6K,
}

/// Elements per block of the K-quant super-blocks.
pub(crate) const QK_K: usize = 256;
/// Elements per block of the legacy (Q4_0 .. Q8_0) types.
pub(crate) const QK: usize = 32;

impl QType {
    /// Every supported type, for tests and tooling that want to iterate over them.
    pub const ALL: [QType; 11] = [
        QType::F32,
        QType::F16,
        QType::BF16,
        QType::Q4_0,
        QType::Q4_1,
        QType::Q5_0,
        QType::Q5_1,
        QType::Q8_0,
        QType::Q4K,
        QType::Q5K,
        QType::Q6K,
    ];

    /// The type with ggml's numeric id, as stored in a GGUF tensor table.
    pub fn from_ggml_id(id: u32) -> Option<QType> {
        Some(match id {
            0 => QType::F32,
            1 => QType::F16,
            2 => QType::Q4_0,
            3 => QType::Q4_1,
            6 => QType::Q5_0,
            7 => QType::Q5_1,
            8 => QType::Q8_0,
            12 => QType::Q4K,
            13 => QType::Q5K,
            14 => QType::Q6K,
            30 => QType::BF16,
            _ => return None,
        })
    }

    /// ggml's numeric id of this type.
    pub fn ggml_id(self) -> u32 {
        match self {
            QType::F32 => 0,
            QType::F16 => 1,
            QType::Q4_0 => 2,
            QType::Q4_1 => 3,
            QType::Q5_0 => 6,
            QType::Q5_1 => 7,
            QType::Q8_0 => 8,
            QType::Q4K => 12,
            QType::Q5K => 13,
            QType::Q6K => 14,
            QType::BF16 => 30,
        }
    }

    /// Elements per block (1 for the float types).
    pub fn block_size(self) -> usize {
        match self {
            QType::F32 | QType::F16 | QType::BF16 => 1,
            QType::Q4_0 | QType::Q4_1 | QType::Q5_0 | QType::Q5_1 | QType::Q8_0 => QK,
            QType::Q4K | QType::Q5K | QType::Q6K => QK_K,
        }
    }

    /// Bytes per block, packed as in a GGUF file.
    pub fn block_bytes(self) -> usize {
        match self {
            QType::F32 => 4,
            QType::F16 | QType::BF16 => 2,
            QType::Q4_0 => 2 + 16,
            QType::Q4_1 => 2 + 2 + 16,
            QType::Q5_0 => 2 + 4 + 16,
            QType::Q5_1 => 2 + 2 + 4 + 16,
            QType::Q8_0 => 2 + 32,
            QType::Q4K => 2 + 2 + 12 + 128,
            QType::Q5K => 2 + 2 + 12 + 32 + 128,
            QType::Q6K => 128 + 64 + 16 + 2,
        }
    }

    /// The name llama.cpp uses for this type ("Q4_K", "F16", ...).
    pub fn name(self) -> &'static str {
        match self {
            QType::F32 => "F32",
            QType::F16 => "F16",
            QType::BF16 => "BF16",
            QType::Q4_0 => "Q4_0",
            QType::Q4_1 => "Q4_1",
            QType::Q5_0 => "Q5_0",
            QType::Q5_1 => "Q5_1",
            QType::Q8_0 => "Q8_0",
            QType::Q4K => "Q4_K",
            QType::Q5K => "Q5_K",
            QType::Q6K => "Q6_K",
        }
    }

    /// Bytes taken by one row of `cols` elements, or None if `cols` is not whole blocks.
    pub fn row_bytes(self, cols: usize) -> Option<usize> {
        if !cols.is_multiple_of(self.block_size()) {
            return None;
        }
        (cols / self.block_size()).checked_mul(self.block_bytes())
    }
}

impl std::fmt::Display for QType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ggml_ids_round_trip_and_unknown_ids_are_rejected() {
        for t in QType::ALL {
            assert_eq!(QType::from_ggml_id(t.ggml_id()), Some(t));
        }
        // Q8_1 (9), Q2_K (10), Q3_K (11), Q8_K (15) exist in ggml but are not weight types we run.
        for id in [4, 5, 9, 10, 11, 15, 16, 29, 31, 1000] {
            assert_eq!(QType::from_ggml_id(id), None, "id {id}");
        }
    }

    #[test]
    fn row_bytes_requires_whole_blocks() {
        assert_eq!(QType::Q4K.row_bytes(1536), Some(6 * 144));
        assert_eq!(QType::Q6K.row_bytes(512), Some(2 * 210));
        assert_eq!(QType::Q8_0.row_bytes(64), Some(2 * 34));
        assert_eq!(QType::F16.row_bytes(3), Some(6));
        assert_eq!(QType::Q4K.row_bytes(100), None);
        assert_eq!(QType::Q5_0.row_bytes(33), None);
    }
}
