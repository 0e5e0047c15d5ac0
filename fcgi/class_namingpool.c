/*
 * Naming pools (reference: "Naming Pool Objects"): how the nodes of a pool
 * are named and numbered.  The pattern is checked when written, so every
 * name it makes is a valid host name.
 */
#include "extern.h"

static const struct field namingpool_fields[] = {
	{ "name",	 F_NAME, F_REQUIRED, 63,   "The name for the Naming Pool" },
	{ "pattern",	 F_STRING, F_REQUIRED, 128, "The naming pattern: n{} or gpu{:03d}" },
	{ "description", F_TEXT, 0,	     4096, "A text string with descriptive information" },
	{ "first_index", F_INT,	 0,	     NAMING_INDEX_MAX, "The first index of nodes added to the pool (default 0)" },
	{ "ip_base",	 F_IP,	 0,	     0,	   "The address of the pool's first node" },
	{ "ip_offset",	 F_INT,	 0,	     16777216, "Offset of the first node's address in its network" },
	{ "network",	 F_REF,	 0,	     0,	   "The network addresses come from; stored as UID", "net" },
	{ "group",	 F_REF,	 0,	     0,	   "An attribute group every node of the pool joins; stored as UID", "attrib" },
	{ "parent",	 F_REF,	 0,	     0,	   "A parent naming pool; stored as UID", "namingpool" },
};

#define NFIELDS	(sizeof(namingpool_fields) / sizeof(namingpool_fields[0]))

const struct bodyspec b_namingpool = { namingpool_fields, NFIELDS, 0 };

static enum apierr
namingpool_prepare(struct req *r, json_t *doc, int creating)
{
	struct naming	 n;
	char		 err[256];

	if (naming_parse(json_string_value(json_object_get(doc, "pattern")), &n,
	    err, sizeof(err)) == -1)
		return req_fail(r, API_BAD_REQUEST, "Field pattern: %s", err);
	if (creating && json_object_get(doc, "first_index") == NULL)
		json_object_set_new(doc, "first_index", json_integer(0));
	return API_OK;
}

const struct objclass namingpool_class = {
	"namingpool", "namingpools", "naming pool", namingpool_fields, NFIELDS,
	&b_namingpool, 0, namingpool_prepare,
};
