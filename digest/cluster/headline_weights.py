"""Fitted weights of the headline model (written by `eval/clustering.py --fit-headlines`)."""

WEIGHTS: dict[str, dict] = {
    "hashing": {
        "bias": -0.8778,
        "fitted_on": "tune half of headline-stories-dev.csv (2941 headlines, 37 stories, "
        "12939 item-story rows, 2759 positive); threshold: best pairwise F1 "
        "with precision >= 0.97 on the tune half",
        "threshold": 0.7,
        "weights": {
            "cos_centroid": 8.6258,
            "cos_max": 4.5674,
            "cos_mean": 0.3395,
            "log_size": -1.2479,
            "name_mean": 3.6508,
            "name_support": 5.4144,
            "no_names": 1.297,
            "num_conflict": 0.149,
            "num_shared": 1.0567,
        },
    },
    "minilm": {
        "bias": -1.8999,
        "fitted_on": "tune half of headline-stories-dev.csv (2941 headlines, 37 stories, "
        "5965 item-story rows, 2838 positive); threshold: best pairwise F1 "
        "with precision >= 0.97 on the tune half",
        "threshold": 0.8,
        # Fragment merging (mean P(same) of one story's headlines against another's): the best
        # pairwise F1 with precision >= 0.97 on the tune half, swept 0.40-0.95 by 0.05.
        "merge_threshold": 0.55,
        "weights": {
            "cos_centroid": 5.635,
            "cos_max": 6.3746,
            "cos_mean": 1.3125,
            "log_size": -1.352,
            "name_mean": -1.2782,
            "name_support": 3.1104,
            "no_names": 1.0974,
            "num_conflict": -0.0322,
            "num_shared": 0.957,
        },
    },
}
