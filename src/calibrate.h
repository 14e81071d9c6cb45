/*
 * calibrate.h - `caigen calibrate`: fit a temperature and a bias to the
 * judge's soft labels against reference (human) labels, and apply such a
 * fit to later labels (judge.calibration) or to existing records
 * (`caigen calibrate apply`).
 *
 * The model (temperature scaling with a bias, Platt-style): with
 * x = logit(p_raw), p_raw clipped to [1e-6, 1 - 1e-6],
 *
 *     p_cal = 1 / (1 + exp(-(x / T + b)))
 *
 * T > 1 softens an overconfident judge, T < 1 sharpens a timid one; b
 * moves the label towards responses[0] (b > 0) or responses[1]. T and b
 * maximise the likelihood of the references y (1: responses[0] preferred,
 * 0: responses[1], 1/2: a tie, or the share of reviewers' votes) under
 * p_cal: a logistic regression on x with soft targets, solved by Newton's
 * method with step halving (the log loss is convex in 1/T and b).
 *
 * Items: caigen.preference/1 records with a `reference` (caigen label /
 * eval) or reviews (OUT/reviews.jsonl, review.h, which win over the
 * record's own reference). All items must share one judge model, one
 * judgment method (judgments[].method) and one CoT setting (a judgment
 * with a rationale): the file names them, and applying it elsewhere is
 * refused.
 *
 * Out-of-fold figures: items are put in K folds (default 5) by sorting
 * them on rng_u64(seed, id, "calibrate-fold", 0) and dealing them in
 * turn; each fold's labels are calibrated by a fit on the other folds.
 * Log loss (natural log, p clipped to [1e-6, 1 - 1e-6]) and Brier over
 * every item; ECE over the items whose reference is not a tie, as in
 * eval.h (symmetric, 10 equal-width left-closed bins). Each is reported
 * before (p_raw) and after (out-of-fold p_cal), with the difference, and
 * a 95 % percentile bootstrap interval: B resamples (default 1000) of the
 * items with replacement, resample b drawn from splitmix64 seeded with
 * rng_u64(seed, "calibrate", "calibrate-bootstrap", b). The file's T and
 * b are then fitted on all items.
 *
 * Applying (judge.calibration in a run, or `calibrate apply`), to a
 * caigen.preference/1 label whose judge model, method and CoT setting
 * match the file's:
 *   p              = clamp(p_cal(p_raw)), with the record's clamp if any;
 *                    p_raw as written in the record (8 significant
 *                    digits), so a run and the offline command agree to
 *                    the byte
 *   chosen_index, chosen, rejected, margin  follow the new p
 *   calibration    added (last key): {"temperature", "bias", "judge",
 *                    "method"}
 * p_raw and every judgment (p_a, logprobs) keep the judge's raw values.
 * A label of another method (a judge that lost logprobs mid-run) is left
 * uncalibrated, without the key.
 *
 * The calibration file (JSON):
 *   {"schema": "caigen.calibration/1", "method": "temperature",
 *    "judge": {"model", "method", "cot"}, "temperature", "bias",
 *    "items", "folds", "seed", "bootstrap", "inputs": [path...],
 *    "out_of_fold": {"log_loss"|"brier"|"ece": {"before", "after",
 *        "change", each {"value", "ci95": [lo, hi]}}}}
 *
 * Not thread-safe while loading; a loaded calibration is read-only.
 */
#ifndef CAIGEN_CALIBRATE_H
#define CAIGEN_CALIBRATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define CALIB_SCHEMA "caigen.calibration/1"
#define CALIB_METHOD "temperature"
#define CALIB_FOLDS 5
#define CALIB_EPS 1e-6

struct calibration {
	char *judge_model;	/* models.judge it was fitted for */
	char *judge_method;	/* judgments' method: logprobs, text, votes */
	bool cot;
	double temperature, bias;
};

/* Read a calibration file; -1 with err (a file of another schema or
 * calibration method is refused). Release with calibration_release. */
int calibration_load(struct calibration *c, const char *path,
		     struct err *err) __attribute__((warn_unused_result));
void calibration_release(struct calibration *c);

/* 0 if labels of judge `model` with CoT `cot` may be calibrated by c,
 * else -1 with err naming what differs. */
int calibration_check(const struct calibration *c, const char *path,
		      const char *model, bool cot, struct err *err)
	__attribute__((warn_unused_result));

/* Whether a label whose judgments used `method` is calibrated by c. */
bool calibration_covers(const struct calibration *c, const char *method);

/* p_cal of p_raw, p_raw first rounded to the record's 8 significant
 * digits. */
double calibration_apply(const struct calibration *c, double p_raw);

/* The maximum-likelihood fit on x[i] = logit(p), targets y[i] in [0, 1]:
 * *t = T, *b = b. -1 when the slope is not positive (the labels do not
 * predict the references) or the data are too few. */
int calibration_fit(const double *x, const double *y, size_t n, double *t,
		    double *b);

/* `caigen calibrate ...` and `caigen calibrate apply ...`: exit code. */
int calibrate_main(int argc, char **argv);

#endif
