//! The canary judge: compares canary with stable per metric and gives a verdict.
