/*
 * The ini configuration: "[section]" headers, "key = value" lines, '#' and
 * ';' comments.  Every key has a default, and an unknown key is an error
 * (a typo in a config file should not be silently ignored).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

enum ctype { C_STR, C_INT, C_SIZE };

struct ckey {
	const char	*section;
	const char	*key;
	enum ctype	 type;
	size_t		 off;
	const char	*def;
	long long	 min, max;
};

#define S(sec, k, f, d) { sec, k, C_STR, offsetof(struct conf, f), d, 0, 0 }
#define I(sec, k, f, d, lo, hi) { sec, k, C_INT, offsetof(struct conf, f), d, lo, hi }
#define Z(sec, k, f, d, lo, hi) { sec, k, C_SIZE, offsetof(struct conf, f), d, lo, hi }

static const struct ckey ckeys[] = {
	S("head", "name",		head_name,	NULL),
	S("api", "socket",		api_socket,	"/run/corral/api.sock"),
	I("api", "workers",		api_workers,	"4", 1, 256),
	I("api", "max_requests",	api_max_requests, "10000", 1, 100000000),
	Z("api", "max_body",		api_max_body,	"1048576", 1024, 1LL << 30),
	S("api", "log",			api_log,	NULL),
	/* [cache]: the per-head read cache and its follower (cache.c, follow.c) */
	I("cache", "enabled",		cache_enabled,	"1", 0, 1),
	S("cache", "dir",		cache_dir,	"/run/corral/cache"),
	I("cache", "interval_ms",	cache_interval_ms, "20", 5, 1000),
	I("cache", "max_lag_ms",	cache_max_lag_ms, "100", 10, 600000),
	I("cache", "keep",		cache_keep,	"3600", 120, 86400 * 30),
	I("cache", "size_mb",		cache_size_mb,	"1024", 16, 1 << 20),
	S("db", "socket",		db_socket,	"/run/mysqld/mysqld.sock"),
	S("db", "host",			db_host,	NULL),
	I("db", "port",			db_port,	"3306", 1, 65535),
	S("db", "name",			db_name,	"corral"),
	S("db", "user",			db_user,	"corral"),
	S("db", "password",		db_password,	""),
	S("auth", "secret_file",	auth_secret_file, "/var/lib/corral/jwt.secret"),
	S("auth", "passwd_file",	auth_passwd_file, NULL),
	S("auth", "pam_service",	auth_pam_service, "corral"),
	S("auth", "issuer",		auth_issuer,	"corral"),
	I("auth", "access_ttl",		auth_access_ttl, "1200", 10, 86400 * 7),
	I("auth", "refresh_ttl",	auth_refresh_ttl, "2592000", 60, 86400 * 366),
	I("auth", "leeway",		auth_leeway,	"5", 0, 300),
	S("attributes", "secret_keys",	attr_secret_keys, "ipmi_pass redfish_pass bmc_pass"),
	S("attributes", "node_protected", attr_node_protected, ""),
	S("secrets", "key_dir",		secrets_key_dir, "/var/lib/corral/keys"),
	S("jobd", "socket",		jobd_socket,	"/run/corral/jobd.sock"),
	I("jobd", "workers",		jobd_workers,	"32", 1, 1024),
	I("tenants", "worker_pool",	tenants_worker_pool, "0", 0, 1000000),
	I("tenants", "token_ttl",	tenants_token_ttl, "2592000", 60, 86400 * 3660),
	I("jobd", "poll_ms",		jobd_poll_ms,	"1000", 10, 60000),
	S("jobd", "log",		jobd_log,	NULL),
	I("jobd", "lease",		jobd_lease,	"15", 3, 3600),
	I("jobd", "nice",		jobd_nice,	"10", 0, 19),
	S("jobd", "wait_socket",	jobd_wait_socket, "/run/corral/jobwait.sock"),
	S("jobd", "spool",		jobd_spool,	"/var/spool/corral"),
	I("jobd", "spool_keep",		jobd_spool_keep, "3600", 60, 86400 * 30),
	I("power", "timeout_ms",	power_timeout_ms, "5000", 100, 120000),
	I("power", "retries",		power_retries,	"3", 0, 10),
	I("power", "ipmi_version",	power_ipmi_version, "20", 15, 20),
	I("power", "ipmi_cipher",	power_ipmi_cipher, "3", 0, 17),
	S("power", "ipmi_priv",		power_ipmi_priv, "operator"),
	S("power", "ipmi_workarounds",	power_ipmi_workarounds, NULL),
	S("power", "ca_bundle",		power_ca_bundle, NULL),
	I("power", "tls_verify",	power_tls_verify, "1", 0, 1),
	I("power", "wait",		power_wait,	"60", 1, 3600),
	I("power", "off_wait",		power_off_wait,	"30", 0, 3600),
	S("power", "ssh_command",	power_ssh_command, "poweroff"),
	I("power", "per_bmc",		power_per_bmc,	"4", 1, 1024),
	I("power", "stagger_ms",	power_stagger_ms, "0", 0, 600000),
	S("power", "busy",		power_busy,	"wait"),
	S("hooks", "allow",		hooks_allow,	NULL),
	S("hooks", "deny",		hooks_deny,	NULL),
	I("hooks", "timeout",		hooks_timeout,	"5", 1, 60),
	I("hooks", "retries",		hooks_retries,	"5", 0, 20),
	I("hooks", "backoff",		hooks_backoff,	"2", 1, 3600),
	I("hooks", "backoff_max",	hooks_backoff_max, "300", 1, 86400),
	S("hooks", "ca_bundle",		hooks_ca_bundle, NULL),
	I("hooks", "tls_verify",	hooks_tls_verify, "1", 0, 1),
	I("hooks", "test_route",	hooks_test_route, "0", 0, 1),
	S("exec", "user",		exec_user,	"root"),
	I("exec", "port",		exec_port,	"22", 1, 65535),
	S("exec", "key",		exec_key,	"/var/lib/corral/ssh/id_ed25519"),
	I("exec", "time_limit",		exec_time_limit, "300", 1, 86400),
	S("files", "dir",		files_dir,	"/var/lib/corral/files"),
	Z("exec", "max_output",		exec_max_output, "1073741824", 0, 1LL << 40),
	I("exec", "connect_timeout",	exec_connect_timeout, "5", 1, 300),
	I("status", "stale_after",	status_stale_after, "300", 5, 86400 * 30),
	/* [git]: hosted git repositories (git.c, run_git.c) */
	S("git", "dir",			git_dir,	"/var/lib/corral/git"),
	I("git", "timeout",		git_timeout,	"300", 5, 86400),
	Z("git", "max_file",		git_max_file,	"1048576", 1024, 64LL << 20),
	/* ISO and capture (run_mkiso.c, run_capture.c) */
	S("iso", "mkrescue",		iso_mkrescue,	"/usr/bin/grub-mkrescue"),
	I("iso", "wait",		iso_wait,	"600", 1, 3600),
	I("iso", "time_limit",		iso_time_limit,	"1800", 10, 86400),
	S("capture", "root",		capture_root,	"/"),
	S("capture", "compress",	capture_compress, "gzip"),
	S("capture", "tar2sqfs",	capture_tar2sqfs, "/usr/bin/tar2sqfs"),
	I("capture", "wait",		capture_wait,	"3600", 1, 3600),
	I("capture", "time_limit",	capture_time_limit, "14400", 10, 86400 * 7),
	/* [boot]: iPXE scripts, signed links, boot progress (api_boot.c, boot.c) */
	S("boot", "link_secret_file",	boot_link_secret_file, "/var/lib/corral/boot-link.secret"),
	I("boot", "link_ttl",		boot_link_ttl,	"900", 10, 86400),
	S("boot", "event_socket",	boot_event_socket, "/run/corral/boot-events.sock"),
	I("boot", "retry_min",		boot_retry_min,	"5", 1, 3600),
	I("boot", "retry_max",		boot_retry_max,	"30", 1, 3600),
	/* [boot] dnsmasq: DHCP, TFTP and DNS for the boot network (dhcp.c) */
	S("boot", "interface",		boot_interface,	NULL),
	S("boot", "address",		boot_address,	NULL),
	S("boot", "url",		boot_url,	NULL),
	S("boot", "dnsmasq",		boot_dnsmasq,	NULL),
	S("boot", "dnsmasq_dir",	boot_dnsmasq_dir, "/var/lib/corral/dnsmasq"),
	S("boot", "dnsmasq_pid_file",	boot_dnsmasq_pid_file, NULL),
	S("boot", "dnsmasq_bin",	boot_dnsmasq_bin, "/usr/sbin/dnsmasq"),
	I("boot", "dns_port",		boot_dns_port,	"53", 0, 65535),
	S("boot", "tftp",		boot_tftp,	"on"),
	S("boot", "ipxe_dir",		boot_ipxe_dir,	"/usr/lib/ipxe"),
	S("boot", "uefi_binary",	boot_uefi_binary, "ipxe.efi"),
	I("boot", "lease_time",		boot_lease_time, "3600", 120, 86400 * 365),
	S("boot", "dhcp_pool",		boot_dhcp_pool,	NULL),
	/*
	 * [boot] boot-time templates and installers (api_boottmpl.c): what
	 * the admin puts there is served by name, never a path outside.
	 */
	S("boot", "kickstart_dir",	boot_kickstart_dir, "/var/lib/corral/kickstarts"),
	S("boot", "install_dir",	boot_install_dir, "/var/lib/corral/install"),
};

static int
conf_set(struct conf *c, const struct ckey *k, const char *val)
{
	char		*base = (char *)c + k->off;
	const char	*errstr;
	long long	 n;

	switch (k->type) {
	case C_STR:
		free(*(char **)base);
		*(char **)base = val == NULL ? NULL : xstrdup(val);
		return 0;
	case C_INT:
	case C_SIZE:
		n = num_parse(val, k->min, k->max, &errstr);
		if (errstr != NULL) {
			log_err("config [%s] %s: %s is %s", k->section, k->key,
			    val, errstr);
			return -1;
		}
		if (k->type == C_INT)
			*(int *)base = (int)n;
		else
			*(size_t *)base = (size_t)n;
		return 0;
	}
	return -1;
}

static char *
trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* A value that goes into dnsmasq's files: no blank, comma or comment. */
static int
conf_plain(const char *s)
{
	return s != NULL && *s != '\0' && strpbrk(s, " \t\r\n,#\"'\\") == NULL;
}

/*
 * The [boot] dnsmasq keys: the mode follows from the interface when not
 * set (managed with one, off without: a dev box serves nothing), and
 * what reaches dnsmasq's files is one plain word.
 */
static int
conf_boot_check(struct conf *c, const char *path)
{
	const char	*mode = c->boot_dnsmasq;

	if (mode == NULL)
		c->boot_dnsmasq = xstrdup(c->boot_interface != NULL ?
		    "managed" : "off");
	else if (strcmp(mode, "managed") != 0 && strcmp(mode, "external") != 0 &&
	    strcmp(mode, "off") != 0) {
		log_err("config %s: [boot] dnsmasq must be managed, external "
		    "or off", path);
		return -1;
	}
	if (strcmp(c->boot_tftp, "on") != 0 && strcmp(c->boot_tftp, "off") != 0) {
		log_err("config %s: [boot] tftp must be on or off", path);
		return -1;
	}
	if (strcmp(c->boot_dnsmasq, "off") != 0 && c->boot_interface == NULL) {
		log_err("config %s: [boot] dnsmasq %s needs [boot] interface",
		    path, c->boot_dnsmasq);
		return -1;
	}
	if ((c->boot_interface != NULL && (!conf_plain(c->boot_interface) ||
	    strlen(c->boot_interface) > 15)) ||
	    (c->boot_address != NULL && !conf_plain(c->boot_address)) ||
	    (c->boot_url != NULL && !conf_plain(c->boot_url)) ||
	    !conf_plain(c->boot_dnsmasq_dir) || !conf_plain(c->boot_ipxe_dir) ||
	    !conf_plain(c->boot_uefi_binary) || !conf_plain(c->boot_dnsmasq_bin) ||
	    c->boot_dnsmasq_dir[0] != '/' ||
	    (c->boot_dnsmasq_pid_file != NULL &&
	    !conf_plain(c->boot_dnsmasq_pid_file))) {
		log_err("config %s: [boot] interface, address, url and the "
		    "paths must be single words without ',', '#' or quotes",
		    path);
		return -1;
	}
	if (c->boot_dhcp_pool != NULL && (strchr(c->boot_dhcp_pool, ',') ==
	    NULL || strpbrk(c->boot_dhcp_pool, " \t#\"'\\") != NULL)) {
		log_err("config %s: [boot] dhcp_pool must be FIRST,LAST", path);
		return -1;
	}
	if (c->boot_dnsmasq_pid_file == NULL)
		xasprintf(&c->boot_dnsmasq_pid_file, "%s/dnsmasq.pid",
		    c->boot_dnsmasq_dir);
	return 0;
}

/*
 * Fill c with defaults, then with the keys of the file at path (NULL: only
 * defaults).  Returns 0, or -1 with the reason logged.
 */
int
conf_load(struct conf *c, const char *path)
{
	FILE		*f = NULL;
	char		 line[1024], section[64] = "", host[256];
	char		*p, *eq, *key, *val;
	size_t		 i;
	unsigned int	 lineno = 0;
	int		 rc = -1;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < sizeof(ckeys) / sizeof(ckeys[0]); i++)
		if (conf_set(c, &ckeys[i], ckeys[i].def) == -1)
			goto out;
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		c->head_name = xstrdup(host);
	} else
		c->head_name = xstrdup("localhost");

	if (path == NULL)
		return 0;
	if ((f = fopen(path, "r")) == NULL) {
		log_err("config %s: %s", path, strerror(errno));
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			log_err("config %s:%u: line too long", path, lineno);
			goto out;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#' || *p == ';')
			continue;
		if (*p == '[') {
			if ((eq = strchr(p, ']')) == NULL ||
			    (size_t)(eq - p - 1) >= sizeof(section)) {
				log_err("config %s:%u: bad section", path, lineno);
				goto out;
			}
			*eq = '\0';
			snprintf(section, sizeof(section), "%s", trim(p + 1));
			continue;
		}
		if ((eq = strchr(p, '=')) == NULL) {
			log_err("config %s:%u: expected key = value", path, lineno);
			goto out;
		}
		*eq = '\0';
		key = trim(p);
		val = trim(eq + 1);
		for (i = 0; i < sizeof(ckeys) / sizeof(ckeys[0]); i++)
			if (strcmp(ckeys[i].section, section) == 0 &&
			    strcmp(ckeys[i].key, key) == 0)
				break;
		if (i == sizeof(ckeys) / sizeof(ckeys[0])) {
			log_err("config %s:%u: unknown key [%s] %s", path,
			    lineno, section, key);
			goto out;
		}
		if (conf_set(c, &ckeys[i], *val == '\0' &&
		    ckeys[i].type == C_STR && ckeys[i].def == NULL ? NULL : val) == -1)
			goto out;
	}
	if (strcmp(c->power_busy, "wait") != 0 &&
	    strcmp(c->power_busy, "refuse") != 0) {
		log_err("config %s: [power] busy must be wait or refuse", path);
		goto out;
	}
	if (conf_boot_check(c, path) == -1)
		goto out;
	if (!hook_cidrs_ok(c->hooks_allow) || !hook_cidrs_ok(c->hooks_deny)) {
		log_err("config %s: [hooks] allow and deny are lists of "
		    "address/bits (127.0.0.0/8 ::1/128)", path);
		goto out;
	}
	if (c->power_ipmi_cipher == 0) {
		log_err("config %s: [power] ipmi_cipher 0 sends passwords "
		    "unprotected; refused", path);
		goto out;
	}
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	if (rc == -1)
		conf_free(c);
	return rc;
}

/*
 * Whether word is one of the words of list (separated by blanks or
 * commas, as a config value lists keys).
 */
int
conf_list_has(const char *list, const char *word)
{
	size_t	 n, len = strlen(word);

	while (list != NULL && *list != '\0') {
		list += strspn(list, " \t,");
		n = strcspn(list, " \t,");
		if (n == len && n > 0 && strncmp(list, word, n) == 0)
			return 1;
		list += n;
	}
	return 0;
}

/* Release every string of c. */
void
conf_free(struct conf *c)
{
	size_t	 i;

	for (i = 0; i < sizeof(ckeys) / sizeof(ckeys[0]); i++)
		if (ckeys[i].type == C_STR) {
			free(*(char **)((char *)c + ckeys[i].off));
			*(char **)((char *)c + ckeys[i].off) = NULL;
		}
}
