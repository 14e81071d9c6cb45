/*
 * review.h - blind human review of preference records in the browser
 * (`caigen review OUT/`), and the reviews it writes, read back as
 * references by `caigen eval` and `caigen calibrate`.
 *
 * The page: a seeded sample of OUT/preferences.jsonl's caigen.preference/1
 * records (--sample N, default all; the N records with the smallest
 * rng_u64(seed, id, "review-sample", 0), shown in that order), each as its
 * prompt, its principle and its two responses under the labels A and B in
 * a random order per record (A is responses[1] when rng_unit(seed, id,
 * "review-swap", 0) >= 0.5). The judge's label (p, chosen, rejected) is
 * never sent to the browser. Keys: a or 1 = A better, b or 2 = B better,
 * t or 0 = tie, s = skip; the page shows progress and starts at the first
 * record the reviewer has not judged. Several reviewers may review: each
 * gives a name, kept by the browser, and every review names it.
 *
 * Each choice is appended to OUT/reviews.jsonl as one line and fsynced
 * before the answer goes back, so a killed browser or server loses no
 * acknowledged choice, and a new `caigen review` resumes:
 *   {"schema": "caigen.review/1", "id": record id, "reviewer": name,
 *    "choice": "A" | "B" | "tie" | "skip",
 *    "preferred": 0 | 1 | null (a tie; absent for skip: the index into
 *                 responses[] of the reply the reviewer preferred),
 *    "swapped": A was responses[1], "time": Unix seconds}
 * A reviewer's later review of a record replaces the earlier one.
 *
 * Serving: libmicrohttpd on 127.0.0.1 (--host to change it) and the port
 * given (--port, default 0: any free one); every request must carry the
 * token, 32 hex digits from /dev/urandom printed in the URL
 * (http://127.0.0.1:PORT/?token=...), as a query parameter or an
 * X-Review-Token header, else 403. Record texts are HTML-escaped on the
 * server (report_html.h) before they reach the page. Routes:
 *   GET  /?token=T               the page
 *   GET  /api/items?token=T&reviewer=NAME   the sample, with what NAME
 *                                 has judged so far
 *   POST /api/review?token=T     form fields index, choice, reviewer
 * The URL goes to stdout (and --url-file FILE) once listening; SIGINT or
 * SIGTERM stops the server.
 *
 * Reading reviews (eval, calibrate): per record id, each reviewer's last
 * review that is not a skip is a vote: 1 for responses[0], 0 for
 * responses[1], 1/2 for a tie. The record's reference becomes the
 * majority of its votes (a tie when the mean is exactly 1/2), replacing
 * the record's own reference; calibrate fits to the mean of the votes.
 * Agreement between reviewers: over records with two or more votes,
 * every pair of reviewers of the record, agreeing when their votes are
 * equal (a tie only agrees with a tie).
 */
#ifndef CAIGEN_REVIEW_H
#define CAIGEN_REVIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define REVIEWS_FILE "reviews.jsonl"
#define REVIEW_SCHEMA "caigen.review/1"

struct review_vote {
	char *id;
	char *reviewer;
	double v;		/* 1, 0, 1/2; -1 = skip */
	size_t line;
};

struct reviews {
	struct review_vote *v;	/* sorted by id, reviewer after finish */
	size_t n, cap;
	size_t lines;		/* review lines read */
};

void reviews_init(struct reviews *rv);
void reviews_release(struct reviews *rv);
/* Read a reviews file (more than one may be read). -1 with err as
 * "file:line: what is wrong". */
int reviews_read(struct reviews *rv, const char *path, struct err *err)
	__attribute__((warn_unused_result));
/* The mean of the votes on record id: true and *y, or false when none
 * (or only skips). */
bool reviews_target(const struct reviews *rv, const char *id, double *y);
/* The majority reference: 1, 0 or 1/2, as above. */
bool reviews_reference(const struct reviews *rv, const char *id, double *y);
/* {"reviews", "records", "reviewers": [name...], "multi_reviewed",
 *  "reviewer_pairs", "agreement"}: agreement null without pairs. New
 *  reference. */
json_t *reviews_summary(const struct reviews *rv);

/* `caigen review OUT/ [options]`: the exit code. */
int review_main(int argc, char **argv);

#endif
