//! Ratios from interleaved rounds, for benches whose two sides criterion would measure
//! seconds apart on a machine whose load drifts (BENCHMARKS.md: twin entries of the same code
//! differed by 9 to 16 %).

/// Ratios measured in interleaved rounds: each round times every contestant's two sides back
/// to back (in an order that alternates), so a neighbour's load that drifts over seconds hits
/// both sides of each ratio alike. A contestant runs side 0 (the numerator) or side 1; the
/// median ratio and its spread are printed as `{group}/paired/{name}`.
pub(crate) fn paired_ratios(
    group: &str,
    what: &str,
    rounds: usize,
    contestants: &mut [(&str, &mut dyn FnMut(usize))],
) {
    let mut ratios = vec![Vec::with_capacity(rounds); contestants.len()];
    for round in 0..=rounds {
        for (i, (_, run)) in contestants.iter_mut().enumerate() {
            let mut time = |side: usize| {
                let start = std::time::Instant::now();
                run(side);
                start.elapsed().as_secs_f64()
            };
            let (num, den) = if round % 2 == 0 {
                let num = time(0);
                (num, time(1))
            } else {
                let den = time(1);
                (time(0), den)
            };
            if round > 0 {
                ratios[i].push(num / den); // round 0 warms up
            }
        }
    }
    for ((name, _), r) in contestants.iter().zip(&mut ratios) {
        r.sort_by(f64::total_cmp);
        println!(
            "{group}/paired/{name}: {what}, median {:.2} over {rounds} interleaved rounds (min {:.2}, max {:.2})",
            r[r.len() / 2],
            r[0],
            r[r.len() - 1],
        );
    }
}
