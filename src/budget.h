/*
 * budget.h - a spending cap (`max_cost`, `--max-cost USD`) held before
 * each request.
 *
 * Every call reserves what it could cost at most before it leaves its
 * wait for a place: its request bytes / 4 input tokens and max_tokens x n
 * output tokens, at its model's prices. When the reply comes the
 * reservation is replaced by what the reply's usage says it cost (a
 * failed call costs nothing). A call whose reservation would take the
 * spent-plus-reserved total past the cap is refused, and the cap is
 * marked reached: the run stops taking prompts, lets the calls on the
 * wire finish, and leaves the rest for the next run. The total therefore
 * never passes the cap by more than the estimate's error, at most one
 * request's worth per call in flight.
 *
 * A cap needs prices: runrules_check (runrules.h) refuses a cap when a
 * model that would be used has no row in the price table, before anything
 * is sent; budget_init takes each used role's prices from the same rule
 * (runrules_rates).
 *
 * Thread-safety: every function may be called from any thread (one
 * mutex).
 */
#ifndef CAIGEN_BUDGET_H
#define CAIGEN_BUDGET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "call.h"
#include "config.h"
#include "util.h"

struct budget {
	pthread_mutex_t lock;
	double cap;			/* USD; 0: no cap */
	double spent;			/* USD of the replies received */
	double held;			/* USD reserved by calls in flight */
	double in[ROLE_COUNT], out[ROLE_COUNT];	/* USD per token */
	atomic_int reached;		/* a call was refused */
};

/* The cap of cfg over the roles in use (used[r]). -1 with err when a
 * used role's model has no price. */
int budget_init(struct budget *b, const struct config *cfg,
		const bool used[ROLE_COUNT], struct err *err)
	__attribute__((warn_unused_result));
void budget_release(struct budget *b);

/* Reserve the most a call of role r could cost; false (and the cap
 * marked reached) when that would pass the cap. *held is what to give
 * back to budget_settle. Without a cap: true, *held 0. */
bool budget_take(struct budget *b, int r, double in_tokens,
		 double out_tokens, double *held);
/* The call is over: drop its reservation, add what its reply cost
 * (u NULL: it failed, nothing). */
void budget_settle(struct budget *b, int r, double held,
		   const struct chat_usage *u);
bool budget_reached(struct budget *b);
/* USD spent so far. */
double budget_spent(struct budget *b);

#endif
