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

/// Brute force over all n₁·n₂ differences, for the properties below.
fn brute_force_shift(canary: &[f64], baseline: &[f64], confidence: f64) -> Shift {
    let mut all: Vec<f64> = canary
        .iter()
        .flat_map(|x| baseline.iter().map(move |y| x - y))
        .collect();
    all.sort_by(f64::total_cmp);
    let total = all.len();
    let estimate = if total % 2 == 1 {
        all[total / 2]
    } else {
        (all[total / 2 - 1] + all[total / 2]) / 2.0
    };
    let (n1, n2) = (canary.len() as f64, baseline.len() as f64);
    let spread =
        normal_quantile(0.5 + confidence / 2.0) * (n1 * n2 * (n1 + n2 + 1.0) / 12.0).sqrt();
    let c = ((total as f64 / 2.0 - spread).floor().max(1.0) as usize).min(total);
    Shift {
        estimate,
        lower: all[c - 1],
        upper: all[total - c],
    }
}

proptest::proptest! {
    /// The bisection search finds exactly the order statistics a full sort finds, ties
    /// included (values on a coarse grid so ties are common).
    #[test]
    fn hodges_lehmann_equals_brute_force(
        canary in proptest::collection::vec(0u8..20, 1..40),
        baseline in proptest::collection::vec(0u8..20, 1..40),
        confidence in 0.6f64..0.995,
    ) {
        let canary: Vec<f64> = canary.iter().map(|v| *v as f64 * 0.25).collect();
        let baseline: Vec<f64> = baseline.iter().map(|v| *v as f64 * 0.25 + 0.1).collect();
        let fast = hodges_lehmann(&canary, &baseline, confidence).unwrap();
        proptest::prop_assert_eq!(fast, brute_force_shift(&canary, &baseline, confidence));
    }

    /// U of one side plus U of the other is n₁n₂; the two-sided p does not depend on the order.
    #[test]
    fn mann_whitney_is_symmetric(
        canary in proptest::collection::vec(0u8..10, 1..30),
        baseline in proptest::collection::vec(0u8..10, 1..30),
    ) {
        let canary: Vec<f64> = canary.iter().map(|v| *v as f64).collect();
        let baseline: Vec<f64> = baseline.iter().map(|v| *v as f64).collect();
        let ab = mann_whitney_u(&canary, &baseline).unwrap();
        let ba = mann_whitney_u(&baseline, &canary).unwrap();
        proptest::prop_assert_eq!(ab.u + ba.u, (canary.len() * baseline.len()) as f64);
        proptest::prop_assert!((ab.p_value - ba.p_value).abs() < 1e-12);
        proptest::prop_assert!((0.0..=1.0).contains(&ab.p_value));
    }
}
