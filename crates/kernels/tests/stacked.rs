//! Stacking: matrices of one type, layout and width stacked into one multiply, bit for bit,
//! as each would alone, in every layout the CPU's kernels read; and stacking refuses to mix.

mod common;

use common::{bits, product, random_matrix, Rng};
use tandem_kernels::{QMatrix, QType, SimdLevel};

const COLS: usize = 512;
/// Multiples of sixteen, so that every type also stacks in rows16 form.
const PART_ROWS: [usize; 3] = [48, 16, 32];

#[test]
fn a_stack_multiplies_exactly_as_its_parts_do() {
    for (n, t) in QType::ALL.into_iter().enumerate() {
        let parts: Vec<QMatrix> = PART_ROWS
            .iter()
            .enumerate()
            .map(|(p, &rows)| random_matrix(t, rows, COLS, 700 + 10 * n as u64 + p as u64).0)
            .collect();
        for level in SimdLevel::supported() {
            let stack =
                QMatrix::stacked(&parts.iter().collect::<Vec<_>>(), level).expect("same type, layout and width");
            // Each part as the kernels would read it alone.
            let parts: Vec<QMatrix> = parts.iter().map(|m| m.repacked(level)).collect();
            assert_eq!(stack.rows(), PART_ROWS.iter().sum::<usize>(), "{t}");
            assert_eq!(stack.layout(), parts[0].layout(), "{t} at {}", level.name());
            assert_eq!(
                stack.data(),
                parts.iter().flat_map(|m| m.data()).copied().collect::<Vec<u8>>(),
                "{t}: the parts' bytes, in order"
            );
            // Stacking parts already in that layout gives the same.
            let again =
                QMatrix::stacked(&parts.iter().collect::<Vec<_>>(), level).expect("same type, layout and width");
            assert_eq!(again.data(), stack.data(), "{t} at {}", level.name());
            for k in [1, 3, 9] {
                let xs = Rng::new(800 + k as u64).values(k * COLS);
                let whole = product(&stack, level, &xs);
                let total = stack.rows();
                for i in 0..k {
                    let mut offset = 0;
                    for (p, part) in parts.iter().enumerate() {
                        let alone = product(part, level, &xs);
                        let rows = part.rows();
                        assert!(
                            bits(&whole[i * total + offset..][..rows]) == bits(&alone[i * rows..][..rows]),
                            "{t} at {}: part {p}, activation row {i} of {k}, differs from the part alone",
                            level.name()
                        );
                        offset += rows;
                    }
                }
            }
        }
    }
}

#[test]
fn stacking_refuses_mixed_types_widths_layouts_and_nothing() {
    let level = SimdLevel::active();
    let (q4, _) = random_matrix(QType::Q4K, 16, COLS, 1);
    let (q6, _) = random_matrix(QType::Q6K, 16, COLS, 2);
    let (wide, _) = random_matrix(QType::Q4K, 16, 2 * COLS, 3);
    assert!(QMatrix::stacked(&[&q4, &q6], level).is_none(), "two types");
    assert!(QMatrix::stacked(&[&q4, &wide], level).is_none(), "two widths");
    assert!(QMatrix::stacked(&[], level).is_none(), "no parts");
    let vnni = SimdLevel::Avx512Vnni;
    if vnni.is_supported() {
        let repacked = q4.repacked(vnni);
        assert!(QMatrix::stacked(&[&q4, &repacked], vnni).is_none(), "two layouts");
        // Seventeen rows have no rows16 form, sixteen have: the groups would not line up.
        let (odd, _) = random_matrix(QType::Q4K, 17, COLS, 4);
        assert!(QMatrix::stacked(&[&q4, &odd], vnni).is_none(), "two fastest layouts");
    }
    let one = QMatrix::stacked(&[&q4], level).expect("one part");
    assert_eq!(one.data(), q4.repacked(level).data(), "a stack of one is the matrix in its fastest layout");
}
