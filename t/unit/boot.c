/*
 * Unit tests of boot progress (fcgi/boot.c): the rule that says when a
 * boot starts over, as a table of event sequences, and the parser of the
 * boot event lines nginx and dnsmasq's dhcp-script send to corral-jobd.
 */
#include <string.h>

#include "extern.h"
#include "../tap.h"

/*
 * Each case: events "stage@time" in order, then the furthest stage and
 * the stages of the boot they leave (sorted names).
 */
static const struct {
	const char	*events[8];
	const char	*stage;		/* NULL: nothing recorded */
	const char	*stages;
	const char	*name;
} seqs[] = {
	{ { "dhcp@0", "script@3", "kernel@6", "initramfs@9", "status@20" },
	    "status", "dhcp initramfs kernel script status", "a whole boot" },
	{ { "script@0", "kernel@1", "script@5" },
	    "script", "script", "a script after the kernel starts over" },
	{ { "script@0", "script@2", "kernel@3" },
	    "kernel", "kernel script", "ROM then undionly: two scripts, one boot" },
	{ { "dhcp@0", "script@1", "kernel@2", "initramfs@3", "dhcp@10" },
	    "initramfs", "dhcp initramfs kernel script", "the initramfs's own DHCP joins the boot" },
	{ { "dhcp@0", "script@1", "status@5", "dhcp@100" },
	    "dhcp", "dhcp", "a lease after the node was up starts over" },
	{ { "dhcp@0", "script@1", "dhcp@1000" },
	    "dhcp", "dhcp", "a lease after a stalled boot starts over" },
	{ { "status@5", "status@6" },
	    NULL, "", "reports of a node never seen booting: nothing" },
	{ { "dhcp@0", "script@1", "kernel@2", "status@4", "status@9" },
	    "status", "dhcp kernel script status", "only the first report counts" },
	{ { "dhcp@0", "kernel@2", "kernel@3" },
	    "kernel", "dhcp kernel", "a kernel fetched again moves its time" },
};

/* The keys of o, sorted, joined by spaces. */
static void
keys_of(json_t *o, char *buf, size_t bufsz)
{
	const char	*names[BOOT__MAX];
	const char	*k, *t;
	json_t		*v;
	size_t		 n = 0, i, j;

	json_object_foreach(o, k, v)
		if (n < BOOT__MAX)
			names[n++] = k;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strncat(buf, " ", bufsz - strlen(buf) - 1);
		strncat(buf, names[i], bufsz - strlen(buf) - 1);
	}
}

static void
test_sequences(void)
{
	json_t		*stages;
	char		 name[32], got[128];
	double		 at, cur_at;
	int		 cur, ev, changed;
	size_t		 i, j;

	for (i = 0; i < nitems(seqs); i++) {
		stages = json_object();
		cur = -1;
		cur_at = 0;
		for (j = 0; j < nitems(seqs[i].events) && seqs[i].events[j]; j++) {
			if (sscanf(seqs[i].events[j], "%31[a-z]@%lf", name, &at) != 2 ||
			    (ev = boot_stage_parse(name)) == -1) {
				ok(0, "bad case %s", seqs[i].events[j]);
				continue;
			}
			cur = boot_advance(cur, cur_at, stages, ev, at, &changed);
			if (cur >= 0)
				cur_at = json_real_value(json_object_get(stages,
				    boot_stage_name(cur)));
		}
		is_str(cur >= 0 ? boot_stage_name(cur) : NULL, seqs[i].stage,
		    "%s: stage", seqs[i].name);
		keys_of(stages, got, sizeof(got));
		is_str(got, seqs[i].stages, "%s: stages", seqs[i].name);
		json_decref(stages);
	}
}

static const struct {
	const char	*line;
	int		 stage;		/* -1: not an event */
	const char	*mac;
} lines[] = {
	{ "dhcp 52:54:00:12:34:56 10.0.0.5", BOOT_DHCP, "52:54:00:12:34:56" },
	{ "dhcp 52-54-00-12-34-5A 10.0.0.5", BOOT_DHCP, "52:54:00:12:34:5a" },
	{ "<190>Dec  4 12:01:23 corral_boot: file /boot/file/52-54-00-04-00-01/"
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/vmlinuz "
	  "200 GET 200000 200000", BOOT_KERNEL, "52:54:00:04:00:01" },
	{ "<190>Dec  4 12:01:23 corral_boot: file /boot/file/52-54-00-04-00-01/"
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/initrd.img "
	  "200 GET 300000 300000", BOOT_INITRAMFS, "52:54:00:04:00:01" },
	/* HEAD, a cut download, a range, a refusal: nothing was booted. */
	{ "x corral_boot: file /boot/file/52-54-00-04-00-01/ab/vmlinuz 200 HEAD 0 200000", -1, NULL },
	{ "x corral_boot: file /boot/file/52-54-00-04-00-01/ab/vmlinuz 200 GET 1000 200000", -1, NULL },
	{ "x corral_boot: file /boot/file/52-54-00-04-00-01/ab/vmlinuz 206 GET 100 100", -1, NULL },
	{ "x corral_boot: file /boot/file/52-54-00-04-00-01/ab/vmlinuz 403 GET 150 150", -1, NULL },
	{ "x corral_boot: file /boot/file/52-54-00-04-00-01/ab/image 200 GET 9 9", -1, NULL },
	{ "x corral_boot: file /boot/file/not-a-mac/ab/vmlinuz 200 GET 9 9", -1, NULL },
	{ "dhcp", -1, NULL },
	{ "dhcp zz:54:00:12:34:56 1.2.3.4", -1, NULL },
	{ "", -1, NULL },
	{ "corral_boot: file", -1, NULL },
};

static void
test_lines(void)
{
	char	 mac[18];
	int	 stage, rc;
	size_t	 i;

	for (i = 0; i < nitems(lines); i++) {
		stage = -1;
		rc = boot_event_parse(lines[i].line, &stage, mac);
		if (lines[i].stage == -1) {
			ok(rc == -1, "not an event: %.60s", lines[i].line);
			continue;
		}
		ok(rc == 0 && stage == lines[i].stage, "event %s: %.50s",
		    boot_stage_name(lines[i].stage), lines[i].line);
		is_str(rc == 0 ? mac : NULL, lines[i].mac, "its MAC");
	}
}

int
main(void)
{
	test_sequences();
	test_lines();
	return done_testing();
}
