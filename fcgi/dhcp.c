/*
 * DHCP, TFTP and DNS on the boot network: the files corral-jobd writes for
 * dnsmasq.  Nothing else in corral knows dnsmasq's formats.
 *
 * Five files in [boot] dnsmasq_dir, made from the node, net and hostname
 * rows by dhcp_render (a pure function of the rows and the site):
 *   dhcp-hostsfile  node MAC -> IPv4 address and name (and hostname
 *                   records with a MAC): dnsmasq's --dhcp-host lines
 *   dhcp-optsfile   per network: router, DNS server, domain (tagged by
 *                   the network's dhcp-range)
 *   addn-hosts      A/AAAA records of nodes and hostname records
 *   dnsmasq.conf    interface, ranges, TFTP, the PXE chain, SRV records
 *   dhcp-event      the dhcp-script: hands lease events to corral-jobd
 * dnsmasq re-reads the first three on SIGHUP; the conf only on a restart.
 * So a node change costs a SIGHUP, and only a network, domain or SRV
 * change (rare) a restart.
 *
 * When: jobd polls a fingerprint of those rows (SQL_DHCP_FINGERPRINT, one
 * indexed row) every DHCP_POLL_MS, never a job per write.  A change is
 * acted on once nothing changed for DHCP_QUIET_MS, or DHCP_MAX_DELAY_MS
 * after the first, so 1,000 creates make a few regenerations.  A file is
 * written (temp + fsync + rename) only when its content changed; each
 * regeneration that changes anything gets the next generation number,
 * in the files' first line.
 *
 * Values from the database are valid names, MACs and addresses already;
 * a value that would still break a line (blank, comma, '#') is skipped
 * with a warning rather than written.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

#define DHCP_POLL_MS		500	/* fingerprint poll while nothing changes */
#define DHCP_QUIET_MS		200	/* a change is over after this much quiet */
#define DHCP_MAX_DELAY_MS	2000	/* ... or this long after it began */
#define DHCP_RETRY_MS		2000	/* after a failed regeneration */
#define DHCP_TEST_MS		10000	/* dnsmasq --test may take */

static const char *const dhcp_names[DHCP_FILE__MAX] = {
	"dnsmasq.conf", "dhcp-hostsfile", "dhcp-optsfile", "addn-hosts",
	"dhcp-event",
};

/*
 * Whether s may go into a dnsmasq line: printable ASCII, no blank, comma,
 * '#' or quote (they split or end a line, or start a comment).
 */
static int
dhcp_plain(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 0x7f || strchr(",#\"'\\", *s) != NULL)
			return 0;
	return 1;
}

static const char *
str_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The canonical text of address s into buf; its family, or 0. */
static int
dhcp_ip(const char *s, char buf[IP_STR_MAX])
{
	unsigned char	 a[16];
	int		 fam;

	if (s == NULL || (fam = ip_parse(s, a)) == 0 ||
	    ip_format(a, fam, buf) == NULL || !dhcp_plain(buf))
		return 0;
	return fam;
}

/* A DNS name fit for a line; domain may be NULL. */
static int
dhcp_dnsname(const char *s)
{
	return valid_dnsname(s) && dhcp_plain(s);
}

/* The dotted netmask of a /bits IPv4 network. */
static void
dhcp_mask(int bits, char buf[IP_STR_MAX])
{
	unsigned long	 m = bits <= 0 ? 0 : 0xffffffffUL << (32 - bits);

	snprintf(buf, IP_STR_MAX, "%lu.%lu.%lu.%lu", (m >> 24) & 255,
	    (m >> 16) & 255, (m >> 8) & 255, m & 255);
}

/* One skipped row: logged, counted. */
static void
dhcp_skip(struct dhcp_out *o, const char *class, const char *name,
    const char *why)
{
	o->skipped++;
	log_warn("dnsmasq files: %s %s left out: %s", class,
	    dhcp_plain(name) ? name : "(bad name)", why);
}

/* Whether network doc (IPv4) is a subnet of the boot interface. */
static int
dhcp_on_site(const struct dhcp_site *site, const json_t *net)
{
	unsigned char	 first[16], addr[16];
	long long	 bits = json_integer_value(json_object_get(net, "mask_bits"));

	if (ip_parse(str_of(net, "first_ip"), first) != AF_INET ||
	    ip_parse(site->address, addr) != AF_INET || bits < 1 || bits > 32)
		return 0;
	if (site->prefix > 0)
		return ip_same_prefix(first, addr, 96 + site->prefix);
	return ip_same_prefix(first, addr, 96 + (int)bits);
}

/* The dhcp-host lines: nodes, then hostname records that have a MAC. */
static void
dhcp_render_hosts(const struct dhcp_rows *r, struct dhcp_out *o,
    struct outbuf *b)
{
	const json_t	*doc;
	const char	*name;
	char		 mac[18], ip[IP_STR_MAX];
	size_t		 i;
	int		 fam;

	json_array_foreach(r->nodes, i, doc) {
		name = str_of(doc, "name");
		if (str_of(doc, "ip") == NULL)
			continue;	/* no network: nothing to hand out */
		if (str_of(doc, "mac") == NULL ||
		    mac_normalize(str_of(doc, "mac"), mac) == -1)
			dhcp_skip(o, "node", name, "bad MAC");
		else if (!dhcp_dnsname(name))
			dhcp_skip(o, "node", name, "name is not a DNS name");
		else if ((fam = dhcp_ip(str_of(doc, "ip"), ip)) == 0)
			dhcp_skip(o, "node", name, "bad address");
		else if (fam == AF_INET)	/* IPv6: DNS only */
			out_printf(b, "%s,%s,%s\n", mac, ip, name);
	}
	json_array_foreach(r->hosts, i, doc) {
		name = str_of(doc, "name");
		if (str_of(doc, "mac") == NULL)
			continue;
		if (mac_normalize(str_of(doc, "mac"), mac) == -1)
			dhcp_skip(o, "hostname", name, "bad MAC");
		else if (!dhcp_dnsname(name))
			dhcp_skip(o, "hostname", name, "name is not a DNS name");
		else if (dhcp_ip(str_of(doc, "ip"), ip) == AF_INET)
			out_printf(b, "%s,%s,%s\n", mac, ip, name);
	}
}

/*
 * The options of each IPv4 network, tagged with the tag its dhcp-range
 * sets.  An empty option is sent empty: without a router_ip a node gets
 * no default route (dnsmasq's default would be the head), and without
 * DNS on port 53 it is not told to ask the head.
 */
static void
dhcp_render_opts(const struct conf *conf, const struct dhcp_site *site,
    const struct dhcp_rows *r, struct dhcp_out *o, struct outbuf *b)
{
	const json_t	*doc;
	const char	*uid, *dom, *router;
	char		 ip[IP_STR_MAX];
	size_t		 i;

	json_array_foreach(r->nets, i, doc) {
		uid = str_of(doc, "uid");
		if (dhcp_ip(str_of(doc, "first_ip"), ip) != AF_INET ||
		    uid == NULL || !dhcp_plain(uid))
			continue;
		router = str_of(doc, "router_ip");
		if (router == NULL)
			router = str_of(doc, "gateway_ip");
		if (router != NULL && dhcp_ip(router, ip) == AF_INET)
			out_printf(b, "tag:n%s,option:router,%s\n", uid, ip);
		else
			out_printf(b, "tag:n%s,option:router\n", uid);
		if (conf->boot_dns_port == 53)
			out_printf(b, "tag:n%s,option:dns-server,%s\n", uid,
			    site->address);
		else
			out_printf(b, "tag:n%s,option:dns-server\n", uid);
		if ((dom = str_of(doc, "domain")) != NULL) {
			if (dhcp_dnsname(dom))
				out_printf(b, "tag:n%s,option:domain-name,%s\n", uid,
				    dom);
			else
				dhcp_skip(o, "net domain", str_of(doc, "name"),
				    "not a DNS name");
		}
	}
}

/* The A/AAAA records: "address fqdn name" for nodes, "address name" else. */
static void
dhcp_render_addn(const struct dhcp_rows *r, struct dhcp_out *o,
    struct outbuf *b)
{
	const json_t	*doc;
	const char	*name, *dom;
	char		 ip[IP_STR_MAX];
	size_t		 i;

	json_array_foreach(r->nodes, i, doc) {
		name = str_of(doc, "name");
		if (json_is_true(json_object_get(doc, "_tenant")))
			continue;	/* see dhcp_rows_load */
		if (str_of(doc, "ip") == NULL || !dhcp_dnsname(name) ||
		    dhcp_ip(str_of(doc, "ip"), ip) == 0)
			continue;	/* counted by the hosts file */
		dom = str_of(doc, "domain");
		if (dom != NULL && dhcp_dnsname(dom))
			out_printf(b, "%s %s.%s %s\n", ip, name, dom, name);
		else
			out_printf(b, "%s %s\n", ip, name);
	}
	json_array_foreach(r->hosts, i, doc) {
		name = str_of(doc, "name");
		if (str_of(doc, "ip") == NULL ||
		    json_is_true(json_object_get(doc, "_tenant")))
			continue;	/* an SRV record; a tenant's */
		if (!dhcp_dnsname(name))
			dhcp_skip(o, "hostname", name, "name is not a DNS name");
		else if (dhcp_ip(str_of(doc, "ip"), ip) != 0)
			out_printf(b, "%s %s\n", ip, name);
	}
}

/* srv-host lines: _service._proto[.domain],target,port,priority,weight */
static void
dhcp_render_srv(const struct dhcp_rows *r, struct dhcp_out *o,
    struct outbuf *b)
{
	const json_t	*doc;
	const char	*name, *svc, *proto, *dom, *target;
	size_t		 i;

	json_array_foreach(r->hosts, i, doc) {
		if (str_of(doc, "type") == NULL ||
		    strcmp(str_of(doc, "type"), "srvrec") != 0 ||
		    json_is_true(json_object_get(doc, "_tenant")))
			continue;
		name = str_of(doc, "name");
		if ((svc = str_of(doc, "service")) == NULL)
			svc = name;
		if ((proto = str_of(doc, "proto")) == NULL)
			proto = "tcp";
		dom = str_of(doc, "domain");
		target = str_of(doc, "target");
		if (!dhcp_plain(svc) || !dhcp_plain(proto) ||
		    !dhcp_dnsname(target) || (dom != NULL && !dhcp_dnsname(dom))) {
			dhcp_skip(o, "srvrec", name, "a part is not a DNS name");
			continue;
		}
		out_printf(b, "srv-host=_%s._%s%s%s,%s,%lld,%lld,%lld\n", svc, proto,
		    dom != NULL ? "." : "", dom != NULL ? dom : "", target,
		    json_integer_value(json_object_get(doc, "port")),
		    json_integer_value(json_object_get(doc, "priority")),
		    json_integer_value(json_object_get(doc, "weight")));
	}
}

/*
 * The PXE chain.  Tags are exclusive, so which dhcp-boot line wins never
 * depends on dnsmasq's order:
 *   user class iPXE           -> the node's script URL (iPXE expands the MAC)
 *   HTTPClient, arch 16       -> the UEFI binary over HTTP (option 60 back)
 *   PXEClient, arch 7 or 9    -> the UEFI binary over TFTP
 *   PXEClient, other arches   -> undionly.kpxe over TFTP (BIOS)
 */
static void
dhcp_render_pxe(const struct conf *conf, const struct dhcp_site *site,
    struct outbuf *b)
{
	out_printf(b, "dhcp-userclass=set:ipxe,iPXE\n"
	    "dhcp-vendorclass=set:pxe,PXEClient\n"
	    "dhcp-vendorclass=set:http,HTTPClient\n"
	    "dhcp-match=set:efi64,option:client-arch,7\n"
	    "dhcp-match=set:efi64,option:client-arch,9\n"
	    "dhcp-match=set:efihttp,option:client-arch,16\n"
	    "tag-if=set:httpboot,tag:http,tag:efihttp\n");
	out_printf(b, "dhcp-boot=tag:ipxe,%s/api/v1/boot/ipxe/${mac:hexhyp}\n",
	    site->url);
	out_printf(b, "dhcp-boot=tag:httpboot,tag:!ipxe,%s/boot/bin/ipxe.efi\n"
	    "dhcp-option-force=tag:httpboot,tag:!ipxe,option:vendor-class,"
	    "HTTPClient\n", site->url);
	if (strcmp(conf->boot_tftp, "on") != 0)
		return;
	out_printf(b, "dhcp-boot=tag:pxe,tag:!ipxe,tag:!httpboot,tag:efi64,%s,,%s\n",
	    conf->boot_uefi_binary, site->address);
	out_printf(b, "dhcp-boot=tag:pxe,tag:!ipxe,tag:!httpboot,tag:!efi64,"
	    "undionly.kpxe,,%s\n", site->address);
}

/* The main configuration: everything dnsmasq reads only at its start. */
static void
dhcp_render_conf(const struct conf *conf, const struct dhcp_site *site,
    const struct dhcp_rows *r, struct dhcp_out *o, struct outbuf *b)
{
	const char	*dir = conf->boot_dnsmasq_dir, *uid, *dom;
	const json_t	*doc, *other;
	char		 ip[IP_STR_MAX], mask[IP_STR_MAX], first[IP_STR_MAX];
	char		 last[IP_STR_MAX];
	size_t		 i, k;
	long long	 bits;

	out_printf(b, "interface=%s\nbind-interfaces\n", conf->boot_interface);
	out_printf(b, "port=%d\n", conf->boot_dns_port);
	if (conf->boot_dns_port != 0) {
		/* Names of the head's /etc/hosts are not the cluster's. */
		out_printf(b, "no-hosts\ndomain-needed\nbogus-priv\n");
		out_printf(b, "addn-hosts=%s/addn-hosts\n", dir);
		/* The cluster's domains are answered here, never forwarded. */
		json_array_foreach(r->nets, i, doc) {
			if ((dom = str_of(doc, "domain")) == NULL ||
			    !dhcp_dnsname(dom))
				continue;
			json_array_foreach(r->nets, k, other)
				if (k >= i || (str_of(other, "domain") != NULL &&
				    strcmp(str_of(other, "domain"), dom) == 0))
					break;
			if (k == i)
				out_printf(b, "local=/%s/\n", dom);
		}
	}
	out_printf(b, "dhcp-hostsfile=%s/dhcp-hostsfile\n", dir);
	out_printf(b, "dhcp-optsfile=%s/dhcp-optsfile\n", dir);
	out_printf(b, "dhcp-leasefile=%s/dnsmasq.leases\n", dir);
	out_printf(b, "dhcp-script=%s/dhcp-event\n", dir);
	out_printf(b, "pid-file=%s\n", conf->boot_dnsmasq_pid_file);
	out_printf(b, "log-facility=%s/dnsmasq.log\n", dir);
	out_printf(b, "dhcp-authoritative\n");
	if (site->run_as_root)
		out_printf(b, "# dnsmasq_dir is closed to other users: stay root to "
		    "read it on SIGHUP\nuser=root\n");
	/*
	 * A static range per network of the boot interface: only MACs
	 * corral knows get an address there, the one corral assigned.
	 */
	json_array_foreach(r->nets, i, doc) {
		uid = str_of(doc, "uid");
		bits = json_integer_value(json_object_get(doc, "mask_bits"));
		if (dhcp_ip(str_of(doc, "first_ip"), ip) != AF_INET ||
		    uid == NULL || !dhcp_plain(uid) || !dhcp_on_site(site, doc))
			continue;
		dhcp_mask((int)bits, mask);
		out_printf(b, "dhcp-range=set:n%s,%s,static,%s,%d\n", uid, ip, mask,
		    conf->boot_lease_time);
	}
	if (conf->boot_dhcp_pool != NULL) {
		k = strcspn(conf->boot_dhcp_pool, ",");
		snprintf(first, sizeof(first), "%.*s", (int)k,
		    conf->boot_dhcp_pool);
		snprintf(last, sizeof(last), "%s", conf->boot_dhcp_pool + k + 1);
		if (dhcp_ip(first, first) == AF_INET &&
		    dhcp_ip(last, last) == AF_INET) {
			dhcp_mask(site->prefix > 0 ? site->prefix : 24, mask);
			out_printf(b, "dhcp-range=set:pool,%s,%s,%s,%d\n", first, last,
			    mask, conf->boot_lease_time);
		} else
			dhcp_skip(o, "[boot]", "dhcp_pool", "not two IPv4 "
			    "addresses");
	}
	if (strcmp(conf->boot_tftp, "on") == 0)
		out_printf(b, "enable-tftp\ntftp-root=%s\n", conf->boot_ipxe_dir);
	dhcp_render_pxe(conf, site, b);
	dhcp_render_srv(r, o, b);
}

/* The dhcp-script: dnsmasq's lease events become boot events of jobd's. */
static void
dhcp_render_script(const struct dhcp_site *site, struct outbuf *b)
{
	out_printf(b, "# generated by corral-jobd; do not edit\n"
	    "# dnsmasq runs this on each lease change: ACTION MAC IP "
	    "[HOSTNAME]\nexec '%s' -c '%s' boot-event dhcp \"$@\"\n",
	    site->jobd_path, site->conf_path);
}

/*
 * Make the text of every file from the rows (bodies only: the header
 * with the generation is added when a file is written).  out->text[i]
 * are new allocations, freed by dhcp_out_free.  Pure: no I/O, no clock.
 */
void
dhcp_render(const struct conf *conf, const struct dhcp_site *site,
    const struct dhcp_rows *r, struct dhcp_out *out)
{
	struct outbuf	 b[DHCP_FILE__MAX];
	size_t		 i;

	memset(b, 0, sizeof(b));
	memset(out, 0, sizeof(*out));
	dhcp_render_conf(conf, site, r, out, &b[DHCP_CONF]);
	dhcp_render_hosts(r, out, &b[DHCP_HOSTS]);
	dhcp_render_opts(conf, site, r, out, &b[DHCP_OPTS]);
	dhcp_render_addn(r, out, &b[DHCP_ADDN]);
	dhcp_render_script(site, &b[DHCP_SCRIPT]);
	for (i = 0; i < DHCP_FILE__MAX; i++)
		out->text[i] = b[i].p != NULL ? b[i].p : xstrdup("");
}

/* Release what dhcp_render made. */
void
dhcp_out_free(struct dhcp_out *out)
{
	size_t	 i;

	for (i = 0; i < DHCP_FILE__MAX; i++) {
		free(out->text[i]);
		out->text[i] = NULL;
	}
}

/* Release the rows. */
void
dhcp_rows_free(struct dhcp_rows *r)
{
	json_decref(r->nets);
	json_decref(r->nodes);
	json_decref(r->hosts);
	memset(r, 0, sizeof(*r));
}

/*
 * Read every net, node and hostname row into r (documents with "uid"
 * and "name" set), in one consistent snapshot.  Rows of a tenant other
 * than the management tenant are marked "_tenant": dnsmasq has one DNS
 * for every client, so a tenant's node and host names are left out of
 * it (a tenant's nodes never learn another's names); their DHCP
 * entries stay.  0, or -1 (logged).
 */
static int
dhcp_rows_load(struct db *db, struct dhcp_rows *r)
{
	char		*class = NULL, *uid = NULL, *name = NULL, *text = NULL;
	json_t		*doc, *list;
	json_error_t	 jerr;
	long long	 mgmt = 1;
	int		 rc = -1;

	r->nets = json_array();
	r->nodes = json_array();
	r->hosts = json_array();
	if (db_begin(db) != DB_OK)
		return -1;
	if (db_run(db, SQL_DHCP_OBJECTS, "") != DB_OK)
		goto out;
	while (db_next(db, SQL_DHCP_OBJECTS, "ssssi", &class, &uid, &name,
	    &text, &mgmt) == DB_OK) {
		list = strcmp(class, "net") == 0 ? r->nets :
		    strcmp(class, "node") == 0 ? r->nodes : r->hosts;
		if ((doc = json_loads(text, 0, &jerr)) != NULL &&
		    json_is_object(doc)) {
			json_object_set_new(doc, "uid", json_string(uid));
			json_object_set_new(doc, "name", json_string(name));
			/* A tenant's names stay out of the DNS everyone asks. */
			if (!mgmt)
				json_object_set_new(doc, "_tenant", json_true());
			json_array_append_new(list, doc);
		} else {
			json_decref(doc);
			log_warn("dnsmasq files: %s %s: stored document "
			    "unreadable", class, uid);
		}
		free(class);
		free(uid);
		free(name);
		free(text);
		class = uid = name = text = NULL;
	}
	rc = 0;
out:
	db_done(db, SQL_DHCP_OBJECTS);
	db_rollback(db);
	return rc;
}

/*
 * Whether dnsmasq, started as root, must stay root to read dir: some
 * directory on the way to it is closed to other users (dnsmasq drops to
 * "nobody" and re-reads the files as that user on SIGHUP).
 */
static int
dhcp_dir_closed(const char *dir)
{
	char		 path[PATH_MAX], *slash;
	struct stat	 st;

	if (geteuid() != 0)
		return 0;
	snprintf(path, sizeof(path), "%s", dir);
	for (;;) {
		if (stat(path, &st) == -1 || !(st.st_mode & S_IXOTH))
			return 1;
		if ((slash = strrchr(path, '/')) == NULL || slash == path)
			return 0;
		*slash = '\0';
	}
}

/*
 * Where the head is on the boot network: [boot] address, else the
 * interface's first IPv4 address, with the interface's prefix length
 * (0 when the address is not on the interface).  0, or -1 with err.
 */
static int
dhcp_site_addr(const struct conf *conf, struct dhcp_site *site, char *err,
    size_t errsz)
{
	struct ifaddrs		*ifa = NULL, *i;
	const struct sockaddr_in *sin, *nm;
	char			 s[IP_STR_MAX];
	unsigned long		 m;

	site->prefix = 0;
	if (conf->boot_address != NULL &&
	    dhcp_ip(conf->boot_address, site->address) != AF_INET) {
		snprintf(err, errsz, "[boot] address %s is not an IPv4 address",
		    conf->boot_address);
		return -1;
	}
	if (getifaddrs(&ifa) == -1) {
		snprintf(err, errsz, "getifaddrs: %s", strerror(errno));
		return -1;
	}
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (strcmp(i->ifa_name, conf->boot_interface) != 0 ||
		    i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    i->ifa_netmask == NULL)
			continue;
		sin = (const struct sockaddr_in *)(const void *)i->ifa_addr;
		nm = (const struct sockaddr_in *)(const void *)i->ifa_netmask;
		if (inet_ntop(AF_INET, &sin->sin_addr, s, sizeof(s)) == NULL)
			continue;
		if (conf->boot_address != NULL && strcmp(s, site->address) != 0)
			continue;
		snprintf(site->address, sizeof(site->address), "%s", s);
		for (m = ntohl(nm->sin_addr.s_addr); m & 0x80000000UL; m <<= 1)
			site->prefix++;
		break;
	}
	freeifaddrs(ifa);
	if (conf->boot_address == NULL && site->prefix == 0) {
		snprintf(err, errsz, "[boot] interface %s has no IPv4 address",
		    conf->boot_interface);
		return -1;
	}
	return 0;
}

/* Write path's new content atomically: temp file, fsync, rename. */
static int
dhcp_write(const char *dir, const char *name, const char *head,
    const char *body, mode_t mode)
{
	char	 path[PATH_MAX], tmp[PATH_MAX];
	int	 fd = -1, rc = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) ==
	    -1 || fchmod(fd, mode) == -1 ||
	    write_all(fd, head, strlen(head)) == -1 ||
	    write_all(fd, body, strlen(body)) == -1 || fsync(fd) == -1) {
		log_err("%s: %s", tmp, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) == -1) {
		log_err("rename %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (rc == -1)
		(void)unlink(tmp);
	return rc;
}

/*
 * The body of file name in dir (what follows its first line), or NULL
 * when it cannot be read; *gen gets the generation its header names.
 */
static char *
dhcp_read_body(const char *dir, const char *name, long long *gen)
{
	char		 path[PATH_MAX], *text = NULL, *nl, *g;
	struct outbuf	 b;
	char		 buf[8192];
	ssize_t		 n;
	int		 fd;

	memset(&b, 0, sizeof(b));
	*gen = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		out_add(&b, buf, (size_t)n);
	close(fd);
	if (n == -1 || b.p == NULL || (nl = strchr(b.p, '\n')) == NULL) {
		free(b.p);
		return NULL;
	}
	*nl = '\0';
	if ((g = strstr(b.p, "generation ")) != NULL)
		*gen = strtoll(g + 11, NULL, 10);
	text = xstrdup(nl + 1);
	free(b.p);
	return text;
}

/*
 * Check a new main configuration with `dnsmasq --test` before it replaces
 * the one dnsmasq runs with.  0 when it passes or no dnsmasq is installed
 * (external mode on another box); -1 (logged) when dnsmasq refuses it.
 */
static int
dhcp_test_conf(const struct conf *conf, const char *head, const char *body)
{
	char		 path[PATH_MAX], arg[PATH_MAX + 16], errpath[PATH_MAX];
	char		 err[512];
	const char	*argv[] = { conf->boot_dnsmasq_bin, arg, "--test", NULL };
	pid_t		 pid;
	int		 rc;

	if (access(conf->boot_dnsmasq_bin, X_OK) == -1)
		return 0;
	snprintf(path, sizeof(path), "%s/.dnsmasq.conf.test", conf->boot_dnsmasq_dir);
	snprintf(arg, sizeof(arg), "--conf-file=%s", path);
	snprintf(errpath, sizeof(errpath), "%s/.dnsmasq.test.err",
	    conf->boot_dnsmasq_dir);
	if (dhcp_write(conf->boot_dnsmasq_dir, ".dnsmasq.conf.test", head, body,
	    0644) == -1)
		return -1;
	/* posix_spawn's argv is char *const[] for history's sake: unchanged. */
	if (tool_spawn((char *const *)(uintptr_t)argv, -1, -1, errpath, &pid,
	    err, sizeof(err)) == -1) {
		log_warn("dnsmasq --test: %s; installing the conf untested", err);
		rc = 0;
	} else if ((rc = tool_wait(pid, monotonic_ms() + DHCP_TEST_MS,
	    "dnsmasq --test", errpath, err, sizeof(err))) == -1)
		log_err("new dnsmasq.conf refused, the old one stays: %s", err);
	(void)unlink(path);
	(void)unlink(errpath);
	return rc;
}

/*
 * Make dnsmasq_dir and learn the generation the files there have
 * reached.  conf_path and jobd_path go into the dhcp-script.  0 or -1.
 */
int
dhcp_init(struct dhcp_state *st, const struct conf *conf,
    const char *conf_path)
{
	char		*body, exe[PATH_MAX];
	long long	 gen;
	ssize_t		 n;
	size_t		 i;

	memset(st, 0, sizeof(*st));
	if (mkdir(conf->boot_dnsmasq_dir, 0755) == -1 && errno != EEXIST) {
		log_err("%s: %s", conf->boot_dnsmasq_dir, strerror(errno));
		return -1;
	}
	/* The script runs from dnsmasq's directory: the path must be whole. */
	if (conf_path[0] == '/')
		snprintf(st->conf_path, sizeof(st->conf_path), "%s", conf_path);
	else if (getcwd(exe, sizeof(exe)) == NULL ||
	    (size_t)snprintf(st->conf_path, sizeof(st->conf_path), "%s/%s", exe,
	    conf_path) >= sizeof(st->conf_path)) {
		log_err("%s: cannot make the path whole", conf_path);
		return -1;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) == -1) {
		log_err("/proc/self/exe: %s", strerror(errno));
		return -1;
	}
	exe[n] = '\0';
	snprintf(st->jobd_path, sizeof(st->jobd_path), "%s", exe);
	if (strchr(st->conf_path, '\'') != NULL ||
	    strchr(st->jobd_path, '\'') != NULL) {
		log_err("dnsmasq files: a quote in %s or %s", st->conf_path,
		    st->jobd_path);
		return -1;
	}
	for (i = 0; i < DHCP_FILE__MAX; i++) {
		body = dhcp_read_body(conf->boot_dnsmasq_dir, dhcp_names[i], &gen);
		if (i == DHCP_CONF && body != NULL)
			st->ready = 1;	/* dnsmasq can start before the database */
		if (gen > st->generation)
			st->generation = gen;
		free(body);
	}
	return 0;
}

/*
 * Regenerate: read the rows, render, and write what changed.  Returns the
 * DHCP_CHANGED_* bits of what was written, or -1 (logged) when nothing
 * could be made.
 */
static int
dhcp_regenerate(struct dhcp_state *st, struct db *db, const struct conf *conf)
{
	static const mode_t	 modes[DHCP_FILE__MAX] = { 0644, 0644, 0644, 0644,
	    0755 };
	struct dhcp_site	 site;
	struct dhcp_rows	 rows;
	struct dhcp_out		 out;
	char			 err[256], *old, *head = NULL, written[128] = "";
	long long		 gen;
	int			 changed[DHCP_FILE__MAX], any = 0, bits = 0;
	size_t			 i;

	memset(&site, 0, sizeof(site));
	memset(&rows, 0, sizeof(rows));
	memset(&out, 0, sizeof(out));
	if (dhcp_site_addr(conf, &site, err, sizeof(err)) == -1) {
		if (strcmp(err, st->last_err) != 0)
			log_err("dnsmasq files: %s; retrying", err);
		snprintf(st->last_err, sizeof(st->last_err), "%s", err);
		return -1;
	}
	st->last_err[0] = '\0';
	if (conf->boot_url != NULL)
		snprintf(site.url, sizeof(site.url), "%s", conf->boot_url);
	else
		snprintf(site.url, sizeof(site.url), "http://%s", site.address);
	site.run_as_root = dhcp_dir_closed(conf->boot_dnsmasq_dir);
	site.jobd_path = st->jobd_path;
	site.conf_path = st->conf_path;
	if (dhcp_rows_load(db, &rows) == -1) {
		dhcp_rows_free(&rows);
		return -1;
	}
	dhcp_render(conf, &site, &rows, &out);
	for (i = 0; i < DHCP_FILE__MAX; i++) {
		old = dhcp_read_body(conf->boot_dnsmasq_dir, dhcp_names[i], &gen);
		changed[i] = old == NULL || strcmp(old, out.text[i]) != 0;
		any |= changed[i];
		free(old);
	}
	if (!any)
		goto done;
	xasprintf(&head, "# generated by corral-jobd, generation %lld; "
	    "do not edit (README: Network boot)\n", st->generation + 1);
	if (changed[DHCP_CONF] && dhcp_test_conf(conf, head, out.text[DHCP_CONF])
	    == -1)
		changed[DHCP_CONF] = 0;
	for (i = 0; i < DHCP_FILE__MAX; i++) {
		if (!changed[i])
			continue;
		/* The script's first line is its interpreter; no generation. */
		if (dhcp_write(conf->boot_dnsmasq_dir, dhcp_names[i],
		    i == DHCP_SCRIPT ? "#!/bin/sh\n" : head, out.text[i],
		    modes[i]) == -1)
			continue;
		bits |= i == DHCP_CONF ? DHCP_CHANGED_CONF :
		    i == DHCP_SCRIPT ? 0 : DHCP_CHANGED_HOSTS;
		snprintf(written + strlen(written), sizeof(written) -
		    strlen(written), "%s%s", *written ? ", " : "", dhcp_names[i]);
	}
	if (*written != '\0') {
		st->generation++;
		log_info("dnsmasq files: generation %lld (%zu nodes, %zu "
		    "networks, %zu hostnames%s): %s", st->generation,
		    json_array_size(rows.nodes), json_array_size(rows.nets),
		    json_array_size(rows.hosts), out.skipped ? ", some left "
		    "out" : "", written);
	}
	if (bits & DHCP_CHANGED_CONF)
		st->ready = 1;
done:
	free(head);
	dhcp_out_free(&out);
	dhcp_rows_free(&rows);
	return bits;
}

/*
 * Poll the fingerprint when it is time and regenerate when a change is
 * over (quiet for DHCP_QUIET_MS, or DHCP_MAX_DELAY_MS after it began).
 * Returns the DHCP_CHANGED_* bits of what was written (0: nothing).
 */
int
dhcp_poll(struct dhcp_state *st, struct db *db, const struct conf *conf)
{
	char		 fp[128];
	double		 now = time_now(), stamp = 0;
	long long	 count = 0, vsum = 0, crc = 0;
	int		 moved, bits;

	if (now < st->next_poll)
		return 0;
	st->next_poll = now + DHCP_POLL_MS / 1000.0;
	if (db_run(db, SQL_DHCP_FINGERPRINT, "") != DB_OK ||
	    db_next(db, SQL_DHCP_FINGERPRINT, "idii", &count, &stamp, &vsum,
	    &crc) != DB_OK) {
		db_done(db, SQL_DHCP_FINGERPRINT);
		return 0;
	}
	db_done(db, SQL_DHCP_FINGERPRINT);
	snprintf(fp, sizeof(fp), "%lld/%.6f/%lld/%lld", count, stamp, vsum, crc);
	moved = !st->have_fp || strcmp(fp, st->fp) != 0;
	if (moved) {
		if (!st->pending)
			st->first_change = now;
		st->pending = 1;
		snprintf(st->fp, sizeof(st->fp), "%s", fp);
	}
	/* The first poll acts at once: the files may be stale from before. */
	if (!st->pending || (moved && st->have_fp &&
	    now - st->first_change < DHCP_MAX_DELAY_MS / 1000.0)) {
		if (st->pending)
			st->next_poll = now + DHCP_QUIET_MS / 1000.0;
		st->have_fp = 1;
		return 0;
	}
	st->have_fp = 1;
	if ((bits = dhcp_regenerate(st, db, conf)) == -1) {
		st->first_change = now;	/* still pending: retry later */
		st->next_poll = now + DHCP_RETRY_MS / 1000.0;
		return 0;
	}
	st->pending = 0;
	return bits;
}

/* Milliseconds until dhcp_poll has work (for the main loop's poll). */
int
dhcp_next_ms(const struct dhcp_state *st)
{
	double	 left = st->next_poll - time_now();

	return left <= 0 ? 0 : 1 + (int)(left * 1000);
}

/*
 * The command line of a managed dnsmasq, into argv (3 entries and NULL);
 * arg is its storage.
 */
void
dhcp_dnsmasq_argv(const struct conf *conf, const char *argv[4], char *arg,
    size_t argsz)
{
	snprintf(arg, argsz, "--conf-file=%s/dnsmasq.conf", conf->boot_dnsmasq_dir);
	argv[0] = conf->boot_dnsmasq_bin;
	argv[1] = arg;
	argv[2] = "--keep-in-foreground";
	argv[3] = NULL;
}

/*
 * External mode: tell the dnsmasq whose pid [boot] dnsmasq_pid_file holds
 * to re-read the files.  A changed main conf needs its restart, which is
 * its supervisor's (systemd's) to do: say so.
 */
void
dhcp_signal_external(const struct conf *conf, int bits)
{
	char		 buf[32];
	const char	*errstr;
	long long	 pid;
	ssize_t		 n;
	int		 fd;

	if (bits & DHCP_CHANGED_CONF)
		log_warn("dnsmasq.conf changed (networks or SRV records): "
		    "restart the external dnsmasq to apply it");
	if ((fd = open(conf->boot_dnsmasq_pid_file, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s: %s; dnsmasq not told to reload",
		    conf->boot_dnsmasq_pid_file, strerror(errno));
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	pid = num_parse(buf, 2, INT_MAX, &errstr);
	if (errstr != NULL || kill((pid_t)pid, SIGHUP) == -1)
		log_warn("%s: no dnsmasq to signal (%s)",
		    conf->boot_dnsmasq_pid_file, errstr != NULL ? errstr :
		    strerror(errno));
}

/* Whether [boot] asks jobd for dnsmasq's files at all. */
int
dhcp_enabled(const struct conf *conf)
{
	return conf->boot_interface != NULL && conf->boot_dnsmasq != NULL &&
	    strcmp(conf->boot_dnsmasq, "off") != 0;
}
