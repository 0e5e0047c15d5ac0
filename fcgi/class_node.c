/*
 * Nodes (reference: "Node Objects"): the machines of the cluster.
 *
 * What is special to them:
 * - the server assigns each node's index, name, IP address and domain
 *   from its naming pool and network (assign.c);
 * - a MAC or an address identifies a node as well as its UID or name
 *   (the engine's unique-key lookup);
 * - only the management tenant creates and deletes them: a tenant gets
 *   its nodes by assignment through a tenancy (tenancy.c), never by
 *   creating them, and gives them back the same way;
 * - POST /nodes also takes a list, created in one transaction;
 * - attributes are inherited from groups (attrs.c) and the groups
 *   list has endpoints of its own (api_node.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define NODE_BULK_MAX		100000

static const char *const node_types[] = {
	"unknown", "compute", "head", "simulated", NULL
};

static const struct field node_fields[] = {
	FIELD("name",            F_NAME,     F_READONLY,            NAMING_LABEL_MAX, "Assigned: the naming pool's pattern applied to the index"),
	FIELD("description",     F_TEXT,     0,                     4096,             "A text string with descriptive information"),
	FIELD_ENUM("type",       F_ENUM,     0,                     0,                node_types, "compute (default), unknown, head or simulated"),
	FIELD("mac",             F_MAC,      F_REQUIRED | F_UNIQUE, 0,                "Every node must have a MAC address"),
	FIELD("attributes",      F_ATTRS,    0,                     65536,            "The node's own key-value pairs; GET /node/<ID>/attributes adds its groups'"),
	FIELD_REF("groups",      F_REF_LIST, 0,                     64,               "attrib", "Ordered attribute groups; later ones override earlier ones"),
	FIELD_REF("naming_pool", F_REF,      0,                     0,                "namingpool", "The naming pool (default: the tenant's naming pattern); stored as UID"),
	FIELD("index",           F_INT,      0,                     NAMING_INDEX_MAX, "Assigned from the naming pool unless sent"),
	FIELD("ip",              F_IP,       F_UNIQUE,              0,                "Assigned from the network unless sent"),
	FIELD("power_uri",       F_STRING,   0,                     URI_MAX_LEN,      "The BMC's URI (ipmi://, redfish://, redfish+http://); <attribute> references are substituted. PUT /node/<ID>/power_state takes state (power on|off|cycle|reset|soft), force, and for off steps: [\"ssh\"|\"soft\"|\"hard\" or {\"do\": ..., \"wait\": s}, ...], default ssh then hard"),
	FIELD("redfish_uri",     F_STRING,   0,                     URI_MAX_LEN,      "The Redfish endpoint of the BMC"),
	FIELD("hardware",        F_OBJECT,   F_READONLY,            0,                "What the node reported of its hardware (putstatus)"),
	FIELD("hostname",        F_STRING,   F_READONLY,            0,                "The node's host name: its name"),
	FIELD("domain",          F_STRING,   F_READONLY,            0,                "The DNS domain of the node's network"),
};

/*
 * Defaults as the reference's example shows them, and the checks that
 * need more than one field's declaration.
 */
static enum apierr
node_prepare(struct ctx *c, json_t *doc, enum how how)
{
	const char	*uri;
	json_t		*parsed;
	char		 err[256];

	if (how != HOW_PATCH) {
		if (json_object_get(doc, "type") == NULL)
			json_object_set_new(doc, "type", json_string("compute"));
		if (json_object_get(doc, "groups") == NULL)
			json_object_set_new(doc, "groups", json_array());
		if (json_object_get(doc, "hardware") == NULL)
			json_object_set_new(doc, "hardware", json_object());
		if (json_object_get(doc, "attributes") == NULL)
			json_object_set_new(doc, "attributes", json_object());
	}
	/* A template is checked when expanded; a plain URI now. */
	uri = json_string_value(json_object_get(doc, "power_uri"));
	if (uri != NULL && strchr(uri, '<') == NULL) {
		if ((parsed = uri_parse_power(uri, err, sizeof(err))) == NULL)
			return ctx_fail(c, API_BAD_REQUEST, "Field power_uri: %s",
			    err);
		json_decref(parsed);
	}
	uri = json_string_value(json_object_get(doc, "redfish_uri"));
	if (uri != NULL && !valid_url(uri))
		return ctx_fail(c, API_BAD_REQUEST, "Field redfish_uri must be "
		    "an http or https URL");
	return API_OK;
}

/*
 * A leased node's BMC stays the management tenant's, kept in its home
 * (tenancy.c): nobody changes it on the tenant's copy.
 */
static enum apierr
node_may_change(struct ctx *c, const struct objrow *o, const json_t *change)
{
	if (o->tenant_id == tenant_mgmt_id(c))
		return API_OK;
	if (json_object_get(change, "power_uri") != NULL ||
	    json_object_get(change, "redfish_uri") != NULL)
		return ctx_fail(c, API_FORBIDDEN, "The BMC of leased node %s "
		    "belongs to the management tenant; change it once the node "
		    "is back", o->name);
	return API_OK;
}

/*
 * Nodes are created only in the management tenant (by its admins, or by
 * the node itself under accept_new_nodes) and come to another tenant
 * only by a lease, which keeps their BMC in a home (tenancy.c); a node
 * made directly in a tenant would have no home and no tenancy.  Then
 * the naming pool and network assign the rest (assign.c).
 */
static enum apierr
node_assign_new(struct ctx *c, struct objrow *o, const json_t *before,
    const json_t *change)
{
	if (before == NULL && o->tenant_id != tenant_mgmt_id(c))
		return ctx_fail(c, API_FORBIDDEN, "Only the management tenant "
		    "creates nodes; nodes come to a tenant through a tenancy "
		    "(POST /tenancy/<ID>/nodes)");
	return node_assign(c, o, before, change);
}

/*
 * A leased node goes back through its tenancy: its tenant may not
 * delete it, and the superadministrator must first take it out of the
 * tenancy, which brings its home (BMC, attributes, index) back.
 */
static enum apierr
node_may_delete(struct ctx *c, const struct objrow *o)
{
	char		*tname = NULL;
	enum apierr	 rc;

	if (o->tenant_id == tenant_mgmt_id(c))
		return API_OK;
	if ((rc = tenancy_of_node(c, o->uid, &tname)) != API_OK)
		return rc;
	if (c->scope.tenant != SCOPE_ALL)
		rc = ctx_fail(c, API_FORBIDDEN, "Node %s is leased through "
		    "tenancy %s; return it through its tenancy (DELETE "
		    "/tenancy/%s/nodes) instead of deleting it", o->name,
		    tname, tname);
	else
		rc = ctx_fail(c, API_CONFLICT, "Node %s is leased through "
		    "tenancy %s; remove it from tenancy %s first (DELETE "
		    "/tenancy/%s/nodes) so its home comes back", o->name,
		    tname, tname, tname);
	free(tname);
	return rc;
}

const struct objclass node_class = {
	.name = "node", .plural = "nodes", .label = "node",
	.spec = FIELDS(node_fields),
	.bulk_max = NODE_BULK_MAX,
	.prepare = node_prepare,
	.may_change = node_may_change,
	.may_delete = node_may_delete,
	.assign = node_assign_new,
	.keys = node_index_keys,
};
