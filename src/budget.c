/* budget.c - the spending cap: reservations before calls, usage after. */
#include "budget.h"
#include "runrules.h"

#include <string.h>

int budget_init(struct budget *b, const struct config *cfg,
		const bool used[ROLE_COUNT], struct err *err)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	atomic_init(&b->reached, 0);
	b->cap = cfg->max_cost;
	if (b->cap <= 0)
		return 0;
	for (int r = 0; r < ROLE_COUNT; r++) {
		/* a panel member is used when the judge is */
		bool on = r <= ROLE_JUDGE ? used[r] : used[ROLE_JUDGE] &&
			  (size_t)(r - ROLE_JUDGE) <= cfg->nmembers;

		if (on && runrules_rates(cfg, r, &b->in[r], &b->out[r],
					 err) < 0)
			return -1;
	}
	return 0;
}

void budget_release(struct budget *b)
{
	pthread_mutex_destroy(&b->lock);
}

bool budget_take(struct budget *b, int r, double in_tokens,
		 double out_tokens, double *held)
{
	double c = in_tokens * b->in[r] + out_tokens * b->out[r];
	bool ok;

	*held = 0;
	if (b->cap <= 0)
		return true;
	pthread_mutex_lock(&b->lock);
	ok = !atomic_load(&b->reached) && b->spent + b->held + c <= b->cap;
	if (ok) {
		b->held += c;
		*held = c;
	} else {
		atomic_store(&b->reached, 1);
	}
	pthread_mutex_unlock(&b->lock);
	return ok;
}

void budget_settle(struct budget *b, int r, double held,
		   const struct chat_usage *u)
{
	if (b->cap <= 0)
		return;
	pthread_mutex_lock(&b->lock);
	b->held -= held;
	if (u)
		b->spent += (double)u->prompt_tokens * b->in[r] +
			    (double)u->completion_tokens * b->out[r];
	pthread_mutex_unlock(&b->lock);
}

bool budget_reached(struct budget *b)
{
	return atomic_load(&b->reached);
}

double budget_spent(struct budget *b)
{
	double s;

	pthread_mutex_lock(&b->lock);
	s = b->spent;
	pthread_mutex_unlock(&b->lock);
	return s;
}
