/*
 * Unit tests of dnsmasq's files (dhcp.c's renderer): valid rows make the
 * lines dnsmasq expects; a value that could break or add a line (a
 * blank, newline, comma, '#', a name that is not a DNS name, a bad MAC
 * or address) is left out, whatever field it is in.
 */
#include <string.h>

#include "extern.h"
#include "../tap.h"

static json_t *
row(const char *uid, const char *json)
{
	json_error_t	 e;
	json_t		*o = json_loads(json, 0, &e);

	if (o == NULL) {
		diag("bad fixture %s: %s", json, e.text);
		exit(1);
	}
	json_object_set_new(o, "uid", json_string(uid));
	return o;
}

/* Whether text holds line as a whole line. */
static int
has_line(const char *text, const char *line)
{
	size_t		 n = strlen(line);
	const char	*p;

	for (p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

static int
count_lines(const char *text)
{
	int	 n = 0;

	for (; *text != '\0'; text++)
		n += *text == '\n';
	return n;
}

int
main(void)
{
	static const char *const bad_names[] = {
		"a b", "a,b", "a#b", "a\nb", "a\"b", "a'b", "a_b", "-a", "",
	};
	struct conf	 c;
	struct dhcp_site site;
	struct dhcp_rows r;
	struct dhcp_out	 o;
	char		 json[256], uid[8];
	size_t		 i;

	if (conf_load(&c, NULL) == -1)
		return 1;
	c.boot_interface = xstrdup("eth1");
	c.boot_dnsmasq = xstrdup("managed");
	c.boot_dnsmasq_pid_file = xstrdup("/d/dnsmasq.pid");
	free(c.boot_dnsmasq_dir);
	c.boot_dnsmasq_dir = xstrdup("/d");
	memset(&site, 0, sizeof(site));
	snprintf(site.address, sizeof(site.address), "10.0.0.1");
	site.prefix = 16;
	snprintf(site.url, sizeof(site.url), "http://10.0.0.1:8080");
	site.jobd_path = "/usr/sbin/corral-jobd";
	site.conf_path = "/etc/corral/corral.conf";

	r.nets = json_array();
	r.nodes = json_array();
	r.hosts = json_array();
	json_array_append_new(r.nets, row("u1", "{\"name\":\"boot\",\"first_ip\":"
	    "\"10.0.1.0\",\"mask_bits\":16,\"ip_count\":100,\"domain\":\"c.test\","
	    "\"router_ip\":\"10.0.0.254\"}"));
	json_array_append_new(r.nets, row("u2", "{\"name\":\"far\",\"first_ip\":"
	    "\"10.9.0.0\",\"mask_bits\":24,\"ip_count\":10}"));
	json_array_append_new(r.nodes, row("n1", "{\"name\":\"n1\",\"mac\":"
	    "\"52:54:00:00:00:01\",\"ip\":\"10.0.1.5\",\"domain\":\"c.test\"}"));
	json_array_append_new(r.nodes, row("n2", "{\"name\":\"n2\",\"mac\":"
	    "\"52:54:00:00:00:02\"}"));
	json_array_append_new(r.nodes, row("n3", "{\"name\":\"n3\",\"mac\":"
	    "\"52:54:00:00:00:03\",\"ip\":\"fd00::3\"}"));
	json_array_append_new(r.hosts, row("h1", "{\"name\":\"bmc1\",\"type\":"
	    "\"arec\",\"ip\":\"10.0.2.1\",\"mac\":\"52-54-00-AA-00-01\"}"));
	json_array_append_new(r.hosts, row("h2", "{\"name\":\"ldap\",\"type\":"
	    "\"srvrec\",\"target\":\"ldap1.c.test\",\"port\":389,\"priority\":1,"
	    "\"weight\":2,\"domain\":\"c.test\"}"));
	/* Every bad name, as a node and as a hostname record. */
	for (i = 0; i < nitems(bad_names); i++) {
		snprintf(uid, sizeof(uid), "b%zu", i);
		snprintf(json, sizeof(json), "{\"mac\":\"52:54:00:00:01:%02zx\","
		    "\"ip\":\"10.0.3.%zu\"}", i, i);
		json_array_append_new(r.nodes, row(uid, json));
		json_object_set_new(json_array_get(r.nodes,
		    json_array_size(r.nodes) - 1), "name",
		    json_string(bad_names[i]));
		snprintf(json, sizeof(json), "{\"type\":\"arec\",\"ip\":"
		    "\"10.0.4.%zu\",\"mac\":\"52:54:00:00:02:%02zx\"}", i, i);
		json_array_append_new(r.hosts, row(uid, json));
		json_object_set_new(json_array_get(r.hosts,
		    json_array_size(r.hosts) - 1), "name",
		    json_string(bad_names[i]));
	}
	/* Bad values in other fields. */
	json_array_append_new(r.nodes, row("x1", "{\"name\":\"x1\",\"mac\":"
	    "\"52:54:00\",\"ip\":\"10.0.5.1\"}"));
	json_array_append_new(r.nodes, row("x2", "{\"name\":\"x2\",\"mac\":"
	    "\"52:54:00:00:05:02\",\"ip\":\"10.0.5.2,10.0.5.3\"}"));
	json_array_append_new(r.nodes, row("x3", "{\"name\":\"x3\",\"mac\":"
	    "\"52:54:00:00:05:03\",\"ip\":\"10.0.5.4\",\"domain\":\"a b\"}"));
	json_array_append_new(r.hosts, row("x4", "{\"name\":\"srv2\",\"type\":"
	    "\"srvrec\",\"target\":\"t,x\",\"port\":1}"));
	json_array_append_new(r.hosts, row("x5", "{\"name\":\"srv3\",\"type\":"
	    "\"srvrec\",\"service\":\"a#b\",\"target\":\"t.x\",\"port\":1}"));

	dhcp_render(&c, &site, &r, &o);

	/* dhcp-hostsfile */
	ok(has_line(o.text[DHCP_HOSTS], "52:54:00:00:00:01,10.0.1.5,n1"), "node: MAC,IP,name");
	ok(has_line(o.text[DHCP_HOSTS], "52:54:00:aa:00:01,10.0.2.1,bmc1"), "hostname with a MAC, normalized");
	ok(strstr(o.text[DHCP_HOSTS], "00:02") == NULL, "no line for a node without an address");
	ok(strstr(o.text[DHCP_HOSTS], "fd00") == NULL, "no DHCP line for an IPv6 address");
	ok(has_line(o.text[DHCP_HOSTS], "52:54:00:00:05:03,10.0.5.4,x3"), "a bad domain does not matter to DHCP");
	is_int(count_lines(o.text[DHCP_HOSTS]), 3, "no line for any bad row");
	/* addn-hosts */
	ok(has_line(o.text[DHCP_ADDN], "10.0.1.5 n1.c.test n1"), "node: IP fqdn name");
	ok(has_line(o.text[DHCP_ADDN], "fd00::3 n3"), "AAAA for an IPv6 node");
	ok(has_line(o.text[DHCP_ADDN], "10.0.2.1 bmc1"), "hostname record");
	ok(has_line(o.text[DHCP_ADDN], "10.0.5.4 x3"), "a bad domain is dropped, the name kept");
	is_int(count_lines(o.text[DHCP_ADDN]), 5, "only good names in addn-hosts");
	/* dhcp-optsfile */
	ok(has_line(o.text[DHCP_OPTS], "tag:nu1,option:router,10.0.0.254"), "router");
	ok(has_line(o.text[DHCP_OPTS], "tag:nu1,option:dns-server,10.0.0.1"), "DNS: the head");
	ok(has_line(o.text[DHCP_OPTS], "tag:nu1,option:domain-name,c.test"), "domain");
	ok(has_line(o.text[DHCP_OPTS], "tag:nu2,option:router"), "no router: an empty option");
	/* dnsmasq.conf */
	ok(has_line(o.text[DHCP_CONF], "interface=eth1"), "interface");
	ok(has_line(o.text[DHCP_CONF], "dhcp-range=set:nu1,10.0.1.0,static,255.255.0.0,3600"), "static range on the interface's subnet");
	ok(strstr(o.text[DHCP_CONF], "10.9.0.0") == NULL, "no range off the subnet");
	ok(has_line(o.text[DHCP_CONF], "local=/c.test/"), "the domain is local");
	ok(has_line(o.text[DHCP_CONF], "srv-host=_ldap._tcp.c.test,ldap1.c.test,389,1,2"), "srv-host");
	ok(strstr(o.text[DHCP_CONF], "srv2") == NULL && strstr(o.text[DHCP_CONF], "a#b") == NULL,
	    "bad SRV records left out");
	ok(has_line(o.text[DHCP_CONF], "dhcp-boot=tag:ipxe,http://10.0.0.1:8080/api/v1/boot/ipxe/${mac:hexhyp}"), "iPXE: the script URL");
	ok(has_line(o.text[DHCP_CONF], "dhcp-boot=tag:pxe,tag:!ipxe,tag:!httpboot,tag:!efi64,undionly.kpxe,,10.0.0.1"), "BIOS: undionly.kpxe");
	ok(has_line(o.text[DHCP_CONF], "dhcp-boot=tag:pxe,tag:!ipxe,tag:!httpboot,tag:efi64,ipxe.efi,,10.0.0.1"), "UEFI: ipxe.efi");
	ok(strstr(o.text[DHCP_CONF], "user=root") == NULL, "user=root only when needed");
	ok(has_line(o.text[DHCP_SCRIPT], "exec '/usr/sbin/corral-jobd' -c '/etc/corral/corral.conf' boot-event dhcp \"$@\""),
	    "the lease script");
	ok(o.skipped >= 2 * nitems(bad_names) + 5, "skipped rows counted (%zu)", o.skipped);
	dhcp_out_free(&o);

	/* Other settings: DNS off port 53, TFTP off, a pool, snponly.efi. */
	c.boot_dns_port = 5353;
	free(c.boot_tftp);
	c.boot_tftp = xstrdup("off");
	c.boot_dhcp_pool = xstrdup("10.0.200.1,10.0.200.50");
	site.run_as_root = 1;
	dhcp_render(&c, &site, &r, &o);
	ok(has_line(o.text[DHCP_OPTS], "tag:nu1,option:dns-server"), "DNS off port 53: no DNS server option");
	ok(strstr(o.text[DHCP_CONF], "undionly") == NULL && strstr(o.text[DHCP_CONF], "enable-tftp") == NULL,
	    "tftp off: no TFTP, no PXE binaries");
	ok(has_line(o.text[DHCP_CONF], "dhcp-range=set:pool,10.0.200.1,10.0.200.50,255.255.0.0,3600"), "the pool");
	ok(has_line(o.text[DHCP_CONF], "user=root"), "user=root when the directory is closed");
	ok(has_line(o.text[DHCP_CONF], "port=5353"), "DNS port");
	dhcp_out_free(&o);
	free(c.boot_dhcp_pool);
	c.boot_dhcp_pool = xstrdup("10.0.200.1,x y");
	dhcp_render(&c, &site, &r, &o);
	ok(strstr(o.text[DHCP_CONF], "set:pool") == NULL, "a bad pool is left out");
	dhcp_out_free(&o);

	dhcp_rows_free(&r);
	conf_free(&c);
	return done_testing();
}
