/*
 * Nodes (reference: "Node Objects"): the machines of the cluster.
 *
 * What is special to them:
 * - the server assigns each node's index, name, IP address and domain
 *   from its naming pool and network (assign.c);
 * - a MAC or an address identifies a node as well as its UID or name
 *   (the engine's unique-key lookup);
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
	{ .name = "name", .type = F_NAME, .flags = F_READONLY,
	  .max = NAMING_LABEL_MAX,
	  .summary = "Assigned: the naming pool's pattern applied to the index" },
	{ .name = "description", .type = F_TEXT, .max = 4096,
	  .summary = "A text string with descriptive information" },
	{ .name = "type", .type = F_ENUM, .choices = node_types,
	  .summary = "compute (default), unknown, head or simulated" },
	{ .name = "mac", .type = F_MAC, .flags = F_REQUIRED | F_UNIQUE,
	  .summary = "Every node must have a MAC address" },
	{ .name = "attributes", .type = F_ATTRS, .max = 65536,
	  .summary = "The node's own key-value pairs; GET "
	  "/node/<ID>/attributes adds its groups'" },
	{ .name = "groups", .type = F_REF_LIST, .max = 64, .ref = "attrib",
	  .summary = "Ordered attribute groups; later ones override earlier ones" },
	{ .name = "naming_pool", .type = F_REF, .ref = "namingpool",
	  .summary = "The naming pool (default: the tenant's naming pattern); "
	  "stored as UID" },
	{ .name = "index", .type = F_INT, .max = NAMING_INDEX_MAX,
	  .summary = "Assigned from the naming pool unless sent" },
	{ .name = "ip", .type = F_IP, .flags = F_UNIQUE,
	  .summary = "Assigned from the network unless sent" },
	{ .name = "power_uri", .type = F_STRING, .max = URI_MAX_LEN,
	  .summary = "The BMC's URI; <attribute> references are substituted" },
	{ .name = "redfish_uri", .type = F_STRING, .max = URI_MAX_LEN,
	  .summary = "The Redfish endpoint of the BMC" },
	{ .name = "hardware", .type = F_OBJECT, .flags = F_READONLY,
	  .summary = "What the node reported of its hardware (putstatus)" },
	{ .name = "hostname", .type = F_STRING, .flags = F_READONLY,
	  .summary = "The node's host name: its name" },
	{ .name = "domain", .type = F_STRING, .flags = F_READONLY,
	  .summary = "The DNS domain of the node's network" },
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

const struct objclass node_class = {
	.name = "node", .plural = "nodes", .label = "node",
	.spec = FIELDS(node_fields),
	.bulk_max = NODE_BULK_MAX,
	.prepare = node_prepare,
	.assign = node_assign,
	.keys = node_index_keys,
};
