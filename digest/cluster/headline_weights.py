"""Fitted weights of the headline model (written by `eval/clustering.py --fit-headlines`)."""

WEIGHTS: dict[str, dict] = {
    "minilm": {
        "weights": {"cos_mean": 8.0, "cos_max": 2.0, "name_mean": 2.0, "name_support": 1.0},
        "bias": -7.0,
        "threshold": 0.5,
        "fitted_on": "not fitted",
    },
    "hashing": {
        "weights": {"cos_mean": 8.0, "cos_max": 2.0, "name_mean": 2.0, "name_support": 1.0},
        "bias": -5.0,
        "threshold": 0.5,
        "fitted_on": "not fitted",
    },
}
