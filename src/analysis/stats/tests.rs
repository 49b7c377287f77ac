use super::*;

fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
    (actual - expected).abs() <= tolerance
}

/// Hand-computed case with a three-way tie.
/// canary = [3, 4, 4, 6, 8], baseline = [1, 2, 4, 5]; pooled and ranked:
/// 1→1, 2→2, 3→3, the three 4s share ranks 4,5,6 → 5, 5→7, 6→8, 8→9.
/// Canary rank sum R₁ = 3+5+5+8+9 = 30, U₁ = 30 − 5·6/2 = 15, mean n₁n₂/2 = 10.
/// Ties: one group of t=3 → Σ(t³−t) = 24; σ² = 20/12 · (10 − 24/(9·8)) = 16.111…,
/// σ = 4.013865; z = (|15−10| − 0.5)/σ = 1.121114; p = 2·P(Z > z) = 0.262239.
/// scipy 1.x `mannwhitneyu(c, b, alternative='two-sided', method='asymptotic',
/// use_continuity=True)` gives statistic 15.0, pvalue 0.2622393495020251.
#[test]
fn mann_whitney_matches_hand_computed_case_with_ties() {
    let result = mann_whitney_u(&[3.0, 4.0, 4.0, 6.0, 8.0], &[1.0, 2.0, 4.0, 5.0]).unwrap();
    assert_eq!(result.u, 15.0);
    assert!(close(
        result.z,
        4.5 / (20.0f64 / 12.0 * (10.0 - 24.0 / 72.0)).sqrt(),
        1e-12
    ));
    assert!(close(result.z, 1.121_114, 1e-6), "z = {}", result.z);
    assert!(
        close(result.p_value, 0.262_239_349_502_025_1, 1e-6),
        "{result:?}"
    );
}

/// Reference from scipy 1.x, run on this machine with python3:
/// `mannwhitneyu(c, b, alternative='two-sided', method='asymptotic', use_continuity=True)`
/// → statistic 106.0, pvalue 0.014534783910525404; z by hand with `rankdata` and the
/// tie-corrected variance → 2.4437676511555027. The canary ranks higher, so z is positive;
/// swapping the samples gives U = 132 − 106 and −z.
#[test]
fn mann_whitney_matches_scipy_on_tied_latency_samples() {
    let canary = [
        0.12, 0.15, 0.15, 0.18, 0.2, 0.2, 0.2, 0.22, 0.25, 0.3, 0.31, 0.31,
    ];
    let baseline = [
        0.1, 0.11, 0.12, 0.12, 0.13, 0.15, 0.16, 0.16, 0.18, 0.2, 0.21,
    ];
    let result = mann_whitney_u(&canary, &baseline).unwrap();
    assert_eq!(result.u, 106.0);
    assert!(close(result.z, 2.443_767_651_155_502_7, 1e-9), "{result:?}");
    assert!(
        close(result.p_value, 0.014_534_783_910_525_404, 1e-7),
        "{result:?}"
    );

    let swapped = mann_whitney_u(&baseline, &canary).unwrap();
    assert_eq!(swapped.u, 132.0 - 106.0);
    assert!(close(swapped.z, -result.z, 1e-12));
    assert!(close(swapped.p_value, result.p_value, 1e-12));
}

#[test]
fn mann_whitney_on_identical_constant_samples_is_p_one() {
    let result = mann_whitney_u(&[0.0; 12], &[0.0; 15]).unwrap();
    assert_eq!(result.u, 90.0);
    assert_eq!(result.p_value, 1.0);
    assert!(mann_whitney_u(&[], &[1.0]).is_none());
}

/// Same hand case: the 20 differences c−b sorted are
/// −2 −1 −1 −1 0 0 1 1 2 2 | 2 2 3 3 3 4 4 5 6 7, so the estimate is (2+2)/2 = 2.
/// At 80%: z = 1.28155, C = ⌊10 − 1.28155·√(20·10/12)⌋ = ⌊4.768⌋ = 4 → [D₄, D₁₇] = [−1, 4].
/// At 98%: C = ⌊10 − 9.497⌋ = 0 → clamped to 1 → [D₁, D₂₀] = [−2, 7].
#[test]
fn hodges_lehmann_matches_hand_computed_case() {
    let (c, b) = ([3.0, 4.0, 4.0, 6.0, 8.0], [1.0, 2.0, 4.0, 5.0]);
    let at_80 = hodges_lehmann(&c, &b, 0.80).unwrap();
    assert_eq!(
        at_80,
        Shift {
            estimate: 2.0,
            lower: -1.0,
            upper: 4.0
        }
    );
    let at_98 = hodges_lehmann(&c, &b, 0.98).unwrap();
    assert_eq!((at_98.lower, at_98.upper), (-2.0, 7.0));
}

/// Reference from python3 + numpy on this machine: the 132 sorted differences d of the
/// samples below have median 0.06 (`numpy.median`), and with
/// C = ⌊66 − norm.ppf(0.99)·√(12·11·24/12)⌋ = 28 the 98% interval is [d[27], d[104]] =
/// [0.0, 0.13].
#[test]
fn hodges_lehmann_matches_numpy_reference() {
    let canary = [
        0.12, 0.15, 0.15, 0.18, 0.2, 0.2, 0.2, 0.22, 0.25, 0.3, 0.31, 0.31,
    ];
    let baseline = [
        0.1, 0.11, 0.12, 0.12, 0.13, 0.15, 0.16, 0.16, 0.18, 0.2, 0.21,
    ];
    let shift = hodges_lehmann(&canary, &baseline, 0.98).unwrap();
    assert!(close(shift.estimate, 0.06, 1e-12), "{shift:?}");
    assert!(close(shift.lower, 0.0, 1e-12), "{shift:?}");
    assert!(close(shift.upper, 0.13, 1e-12), "{shift:?}");
}

#[test]
fn kth_difference_agrees_with_brute_force() {
    let a = [0.5, 1.0, 1.0, 2.5, 3.0, 7.25];
    let mut b = vec![-1.0, 0.0, 1.0, 1.0, 2.0, 9.5, 0.25];
    b.sort_by(f64::total_cmp);
    let mut all: Vec<f64> = a
        .iter()
        .flat_map(|x| b.iter().map(move |y| x - y))
        .collect();
    all.sort_by(f64::total_cmp);
    for k in 1..=all.len() {
        assert_eq!(kth_difference(&a, &b, k), all[k - 1], "k = {k}");
    }
}

/// scipy: norm.ppf(0.99) = 2.3263478740408408, norm.ppf(0.975) = 1.959963984540054,
/// norm.sf(1.1211) = 0.1311226493448815.
#[test]
fn normal_helpers_match_scipy() {
    assert!(close(normal_quantile(0.99), 2.326_347_874_040_840_8, 1e-8));
    assert!(close(normal_quantile(0.975), 1.959_963_984_540_054, 1e-8));
    assert!(close(normal_quantile(0.01), -2.326_347_874_040_840_8, 1e-8));
    assert!(close(normal_sf(1.1211), 0.131_122_649_344_881_5, 1e-7));
    assert!(close(
        normal_sf(-1.1211),
        1.0 - 0.131_122_649_344_881_5,
        1e-7
    ));
}

#[test]
fn median_and_mean() {
    assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
    assert_eq!(median(&[]), None);
}
