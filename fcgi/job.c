/*
 * The job kinds corral-jobd can run.  The API looks kinds up here to
 * refuse an unknown kind or bad parameters before a job row exists; the
 * runner looks them up to run a claimed job.  A new kind is one job_*.c
 * file and one line below.
 */
#include <string.h>

#include "extern.h"

static const struct jobkind *const kinds[] = {
	&job_noop,
};

/* The kind called name (borrowed, static), or NULL if there is none. */
const struct jobkind *
jobkind_find(const char *name)
{
	size_t	 i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i]->name, name) == 0)
			return kinds[i];
	return NULL;
}
