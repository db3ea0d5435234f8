/*
 * decision.h - building and copying struct stsdane_decision
 *
 * The constructors every part of the decision module uses; the public
 * stsdane_decision_free() releases what they make.
 */
#ifndef STSDANE_DECISION_H
#define STSDANE_DECISION_H

#include "util.h"

struct stsdane_decision *decision_new(const char *domain);
int decision_set_reason(struct stsdane_decision *d, const char *fmt, ...)
    SD_PRINTF(2, 3);
int decision_add_mx(struct stsdane_decision *d, const char *pattern);
struct stsdane_decision *decision_copy(const struct stsdane_decision *d);
/* "no policy: WHY", with problem set */
struct stsdane_decision *decision_none(const char *domain,
    enum stsdane_problem problem, const char *why);
/* defer: tempfail, and require_tls should a caller deliver anyway */
struct stsdane_decision *decision_tempfail(const char *domain,
    enum stsdane_problem problem, const char *why);

#endif /* STSDANE_DECISION_H */
