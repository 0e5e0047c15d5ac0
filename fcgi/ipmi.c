/*
 * Power control over IPMI-over-LAN (IPMI 1.5, and 2.0 "lanplus" RMCP+
 * sessions) with libfreeipmi.  The only file that includes freeipmi's
 * headers; linked into corral-jobd alone.
 *
 * One call is one session: open (authenticating at the configured
 * privilege), one chassis command, close.  freeipmi blocks; its session
 * timeout bounds each exchange with the BMC, so a BMC that stops answering
 * is given up on timeout_ms after its last answer, and one that never
 * answers costs timeout_ms in all.  A BMC that answers each step just short
 * of the limit could stretch a call to a few times timeout_ms; the runner's
 * own limits cover that.
 *
 * UDP cannot tell "nothing listens" from "too slow", but the kernel can: an
 * ICMP port or host unreachable comes back on a connected socket.  So each
 * call first sends one RMCP presence ping on a socket of its own, waits a
 * moment for the answer or the error, and fails at once with "refused" or
 * "unreachable" instead of waiting timeout_ms.  An ICMP error that arrives
 * later still turns a timeout into the truer reason.
 *
 * Nothing here logs: the reason goes back to the caller, which records it
 * with the job.  Passwords never appear in a reason.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <freeipmi/freeipmi.h>

#include "extern.h"

#define IPMI_PORT_DEFAULT	623
#define IPMI_TIMEOUT_MIN_MS	100	/* below this nothing on a LAN answers */
#define IPMI_PROBE_WAIT_MS	30	/* how long the ping may take to fail */
#define IPMI_RETRANS_MIN_MS	50	/* resend no more often than this */
#define IPMI_RETRANS_SLACK_MS	10	/* end the last wait past the timeout */

/*
 * The workaround flags freeipmi's tools take by name (ipmipower -W).  Some
 * exist for one protocol version only; a name for the other version is
 * accepted and has no effect, as in ipmipower, so one list serves a mixed
 * cluster.
 */
static const struct workaround {
	const char	*name;
	unsigned int	 v15;	/* for ipmi_ctx_open_outofband, 0: none */
	unsigned int	 v20;	/* for ipmi_ctx_open_outofband_2_0, 0: none */
} workarounds[] = {
	{ "authcap",		IPMI_WORKAROUND_FLAGS_OUTOFBAND_AUTHENTICATION_CAPABILITIES,
				IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_AUTHENTICATION_CAPABILITIES },
	{ "nochecksumcheck",	IPMI_WORKAROUND_FLAGS_OUTOFBAND_NO_CHECKSUM_CHECK,
				IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_NO_CHECKSUM_CHECK },
	{ "idzero",		IPMI_WORKAROUND_FLAGS_OUTOFBAND_ACCEPT_SESSION_ID_ZERO, 0 },
	{ "unexpectedauth",	IPMI_WORKAROUND_FLAGS_OUTOFBAND_CHECK_UNEXPECTED_AUTHCODE, 0 },
	{ "forcepermsg",	IPMI_WORKAROUND_FLAGS_OUTOFBAND_FORCE_PERMSG_AUTHENTICATION, 0 },
	{ "endianseq",		IPMI_WORKAROUND_FLAGS_OUTOFBAND_BIG_ENDIAN_SEQUENCE_NUMBER, 0 },
	{ "noauthcodecheck",	IPMI_WORKAROUND_FLAGS_OUTOFBAND_NO_AUTH_CODE_CHECK, 0 },
	{ "intel20",		0, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_INTEL_2_0_SESSION },
	{ "supermicro20",	0, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_SUPERMICRO_2_0_SESSION },
	{ "sun20",		0, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_SUN_2_0_SESSION },
	{ "opensesspriv",	0, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_OPEN_SESSION_PRIVILEGE },
	{ "integritycheckvalue", 0, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_NON_EMPTY_INTEGRITY_CHECK_VALUE },
};

static const struct privilege {
	const char	*name;
	uint8_t		 level;
} privileges[] = {
	{ "user",	IPMI_PRIVILEGE_LEVEL_USER },
	{ "operator",	IPMI_PRIVILEGE_LEVEL_OPERATOR },
	{ "admin",	IPMI_PRIVILEGE_LEVEL_ADMIN },
};

/* What each power_op sends; POWER_STAT sends Get Chassis Status instead. */
static const struct chassis_op {
	enum power_op	 op;
	uint8_t		 control;
	const char	*what;		/* for reasons */
} chassis_ops[] = {
	{ POWER_ON,	IPMI_CHASSIS_CONTROL_POWER_UP,		   "power on" },
	{ POWER_OFF,	IPMI_CHASSIS_CONTROL_POWER_DOWN,	   "power off" },
	{ POWER_CYCLE,	IPMI_CHASSIS_CONTROL_POWER_CYCLE,	   "power cycle" },
	{ POWER_RESET,	IPMI_CHASSIS_CONTROL_HARD_RESET,	   "hard reset" },
	{ POWER_SOFT,	IPMI_CHASSIS_CONTROL_INITIATE_SOFT_SHUTDOWN, "soft shutdown" },
};

/* The options of one call, resolved to what freeipmi takes. */
struct ipmi_settings {
	int		 v20;		/* IPMI 2.0 (RMCP+) rather than 1.5 */
	uint8_t		 priv;
	const char	*priv_name;
	uint8_t		 cipher;
	unsigned int	 flags;		/* workarounds for the version in use */
};

/* The RMCP presence ping socket (see the top of the file). */
struct probe {
	int		 fd;
	int		 answered;	/* something came back: a BMC is there */
};

/*
 * How long freeipmi has waited after n waits for an answer, in units of
 * the retransmission timeout r: it waits r, r, 2r, 2r, 3r, 3r... (the
 * multiplier grows every IPMI_LAN_BACKOFF_COUNT = 2 sends in its
 * ipmi-lan-session-common.c) and checks the session timeout only when a
 * wait ends.
 */
static unsigned int
backoff_units(unsigned int n)
{
	unsigned int	 i, units = 0;

	for (i = 0; i < n; i++)
		units += i / 2 + 1;
	return units;
}

/*
 * The retransmission timeout for a session timeout of session_ms and
 * retries resends: the one that makes wait number retries + 1 end just
 * after session_ms, so that a silent BMC is given up on then and not up to
 * a whole (growing) interval later.  At least one resend, intervals of at
 * least IPMI_RETRANS_MIN_MS.  Were freeipmi's schedule to change, a wait
 * could end early (a resend more) or late (by at most one interval).
 */
static unsigned int
retrans_for(unsigned int session_ms, int retries)
{
	unsigned int	 waits, r;

	waits = retries < 1 ? 2 : retries > 30 ? 31 : (unsigned int)retries + 1;
	while (waits > 2 && (session_ms + IPMI_RETRANS_SLACK_MS) /
	    backoff_units(waits) < IPMI_RETRANS_MIN_MS)
		waits--;
	r = (session_ms + IPMI_RETRANS_SLACK_MS) / backoff_units(waits);
	/* freeipmi wants it under the session timeout. */
	return r < session_ms ? r : session_ms - 1;
}

/*
 * Add the flags of the workaround names in list (space or comma separated)
 * to *v15 and *v20.  Returns 0, or -1 naming the unknown word in err.
 */
static int
workarounds_parse(const char *list, unsigned int *v15, unsigned int *v20,
    char *err, size_t errsz)
{
	const char	*p = list, *end;
	size_t		 len, i;

	*v15 = *v20 = 0;
	while (p != NULL && *p != '\0') {
		p += strspn(p, " ,\t");
		if (*p == '\0')
			break;
		len = strcspn(p, " ,\t");
		end = p + len;
		for (i = 0; i < nitems(workarounds); i++)
			if (strlen(workarounds[i].name) == len &&
			    strncmp(workarounds[i].name, p, len) == 0)
				break;
		if (i == nitems(workarounds)) {
			snprintf(err, errsz, "unknown IPMI workaround \"%.*s\" "
			    "(known: authcap, nochecksumcheck, idzero, "
			    "unexpectedauth, forcepermsg, endianseq, "
			    "noauthcodecheck, intel20, supermicro20, sun20, "
			    "opensesspriv, integritycheckvalue)",
			    len > 32 ? 32 : (int)len, p);
			return -1;
		}
		*v15 |= workarounds[i].v15;
		*v20 |= workarounds[i].v20;
		p = end;
	}
	return 0;
}

/* Resolve o into s.  Returns 0, or -1 with the reason in err. */
static int
ipmi_settings_get(const struct power_opts *o, struct ipmi_settings *s,
    char *err, size_t errsz)
{
	unsigned int	 v15, v20;
	size_t		 i;

	memset(s, 0, sizeof(*s));
	if (o->ipmi_version != 15 && o->ipmi_version != 20) {
		snprintf(err, errsz, "IPMI version must be 15 or 20, not %d",
		    o->ipmi_version);
		return -1;
	}
	s->v20 = o->ipmi_version == 20;
	if (o->ipmi_cipher == 0) {
		snprintf(err, errsz, "IPMI cipher suite 0 refused: it "
		    "authenticates nobody, so anyone on the BMC network could "
		    "control power");
		return -1;
	}
	if (o->ipmi_cipher < 0 || o->ipmi_cipher > 255 ||
	    !IPMI_CIPHER_SUITE_ID_SUPPORTED(o->ipmi_cipher)) {
		snprintf(err, errsz, "IPMI cipher suite %d is not one freeipmi "
		    "supports (1-3, 6-8, 11, 12, 15-17)", o->ipmi_cipher);
		return -1;
	}
	s->cipher = (uint8_t)o->ipmi_cipher;
	s->priv_name = o->ipmi_priv != NULL ? o->ipmi_priv : "operator";
	for (i = 0; i < nitems(privileges); i++)
		if (strcmp(privileges[i].name, s->priv_name) == 0)
			break;
	if (i == nitems(privileges)) {
		snprintf(err, errsz, "IPMI privilege must be user, operator or "
		    "admin");
		return -1;
	}
	s->priv = privileges[i].level;
	if (workarounds_parse(o->ipmi_workarounds, &v15, &v20, err, errsz) == -1)
		return -1;
	s->flags = s->v20 ? v20 : v15;
	if (o->timeout_ms <= 0 || o->retries < 0) {
		snprintf(err, errsz, "power timeout must be positive and "
		    "retries not negative");
		return -1;
	}
	return 0;
}

/*
 * Check the IPMI options of o (version, cipher suite, privilege,
 * workaround names), for start-up.  Returns 0, or -1 with the reason.
 */
int
ipmi_opts_check(const struct power_opts *o, char *err, size_t errsz)
{
	struct ipmi_settings	 s;

	return ipmi_settings_get(o, &s, err, errsz);
}

/*
 * Send one RMCP/ASF presence ping to host:port from a connected socket of
 * its own, so that an ICMP error about that port comes back to it.
 * Returns 0, or -1 with a reason after the "host: " prefix in err when the
 * name does not resolve or the network is unreachable.
 */
static int
probe_start(struct probe *pr, const char *host, int port, char *err,
    size_t errsz)
{
	/* RMCP v1.0, seq 0xff (no ack), class ASF; IANA 4542; Presence Ping. */
	static const unsigned char ping[12] = {
		0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe,
		0x80, 0x00, 0x00, 0x00
	};
	struct addrinfo	 hints, *res = NULL;
	char		 portstr[12];
	int		 gai, rc = -1;

	pr->fd = -1;
	pr->answered = 0;
	memset(&hints, 0, sizeof(hints));
	/* freeipmi speaks IPv4 only. */
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((gai = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		snprintf(err, errsz, "%s", gai == EAI_NONAME ?
		    "host name not found" : "host name lookup failed");
		goto out;
	}
	if ((pr->fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    fcntl(pr->fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(pr->fd, F_SETFL, O_NONBLOCK) == -1) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		goto out;
	}
	if (connect(pr->fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    send(pr->fd, ping, sizeof(ping), 0) == -1) {
		snprintf(err, errsz, "unreachable (%s)", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (res != NULL)
		freeaddrinfo(res);
	if (rc == -1 && pr->fd != -1) {
		close(pr->fd);
		pr->fd = -1;
	}
	return rc;
}

/*
 * Wait up to ms for the ping's fate.  Returns -1 with a reason in err when
 * the kernel reported the port refused or the host unreachable, else 0 (an
 * answer sets pr->answered; silence says nothing).
 */
static int
probe_check(struct probe *pr, int ms, int port, char *err, size_t errsz)
{
	struct pollfd	 pfd;
	unsigned char	 buf[64];

	if (pr->fd == -1)
		return 0;
	pfd.fd = pr->fd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, ms) == -1 && errno == EINTR)
		;
	while (recv(pr->fd, buf, sizeof(buf), 0) >= 0)
		pr->answered = 1;
	switch (errno) {
	case ECONNREFUSED:
		snprintf(err, errsz, "refused (nothing listens on UDP port %d)",
		    port);
		return -1;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
		snprintf(err, errsz, "unreachable (%s)", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The reason for a failed freeipmi call on ctx, after the "host: " prefix.
 * what names the step; rs, when not NULL, holds the BMC's answer (for its
 * completion code).  The probe may know better than a timeout.
 */
static void
ipmi_reason(ipmi_ctx_t ctx, fiid_obj_t rs, const char *what,
    const struct ipmi_settings *s, const struct power_opts *o,
    struct probe *pr, int port, char *err, size_t errsz)
{
	char		 ccbuf[IPMI_ERR_STR_MAX_LEN];
	uint64_t	 cc = 0;
	int		 e = ipmi_ctx_errnum(ctx);

	switch (e) {
	case IPMI_ERR_USERNAME_INVALID:
	case IPMI_ERR_PASSWORD_INVALID:
	case IPMI_ERR_K_G_INVALID:
		snprintf(err, errsz, "authentication failed (wrong user name "
		    "or password)");
		break;
	case IPMI_ERR_PASSWORD_VERIFICATION_TIMEOUT:
		snprintf(err, errsz, "authentication failed (no answer once "
		    "the password was sent: wrong password?)");
		break;
	case IPMI_ERR_PRIVILEGE_LEVEL_INSUFFICIENT:
	case IPMI_ERR_PRIVILEGE_LEVEL_CANNOT_BE_OBTAINED:
		snprintf(err, errsz, "authentication failed (the user may not "
		    "have privilege %s)", s->priv_name);
		break;
	case IPMI_ERR_AUTHENTICATION_TYPE_UNAVAILABLE:
		snprintf(err, errsz, "authentication failed (no IPMI 1.5 "
		    "authentication type in common with the BMC)");
		break;
	case IPMI_ERR_CIPHER_SUITE_ID_UNAVAILABLE:
		snprintf(err, errsz, "cipher suite %d not offered by the BMC",
		    s->cipher);
		break;
	case IPMI_ERR_IPMI_2_0_UNAVAILABLE:
		snprintf(err, errsz, "the BMC does not speak IPMI 2.0 "
		    "(ipmi_version 15 may work)");
		break;
	case IPMI_ERR_CONNECTION_TIMEOUT:
	case IPMI_ERR_SESSION_TIMEOUT:
	case IPMI_ERR_MESSAGE_TIMEOUT:
		if (probe_check(pr, 0, port, err, errsz) == -1)
			break;
		if (strcmp(what, "session") != 0)
			snprintf(err, errsz, "no answer to %s within %.1f s",
			    what, o->timeout_ms / 1000.0);
		else
			snprintf(err, errsz, "no answer within %.1f s%s",
			    o->timeout_ms / 1000.0, pr->answered ?
			    " to IPMI session requests (it answers RMCP pings: "
			    "check ipmi_version and workarounds)" : "");
		break;
	case IPMI_ERR_BAD_COMPLETION_CODE:
		if (rs == NULL || fiid_obj_get(rs, "comp_code", &cc) < 0 ||
		    ipmi_completion_code_strerror_cmd_r(rs,
		    IPMI_NET_FN_CHASSIS_RS, ccbuf, sizeof(ccbuf)) < 0)
			snprintf(err, errsz, "%s failed (IPMI error)", what);
		else
			snprintf(err, errsz, "%s failed: %.200s (completion code "
			    "0x%02x)", what, ccbuf, (unsigned int)cc);
		break;
	case IPMI_ERR_BAD_RMCPPLUS_STATUS_CODE:
		snprintf(err, errsz, "the BMC refused the IPMI 2.0 session "
		    "(RMCP+ error; a workaround such as opensesspriv may help)");
		break;
	case IPMI_ERR_COMMAND_INVALID_OR_UNSUPPORTED:
		snprintf(err, errsz, "%s not supported by the BMC", what);
		break;
	case IPMI_ERR_BMC_BUSY:
		snprintf(err, errsz, "BMC busy");
		break;
	case IPMI_ERR_HOSTNAME_INVALID:
		snprintf(err, errsz, "host name not found");
		break;
	default:
		snprintf(err, errsz, "%s failed: %s", what,
		    ipmi_ctx_errormsg(ctx));
		break;
	}
}

/*
 * Do op on the IPMI BMC b with the options o.  For POWER_STAT *state is
 * the chassis power the BMC reports; other ops leave it POWER_UNKNOWN (a
 * chassis control answers before the power has changed).  Returns 0, or
 * -1 with "host: reason" in err.
 */
int
ipmi_power(const struct bmc *b, const struct power_opts *o, enum power_op op,
    enum power_state *state, char *err, size_t errsz)
{
	struct ipmi_settings	 s;
	struct probe		 pr = { .fd = -1 };
	ipmi_ctx_t		 ctx = NULL;
	fiid_obj_t		 rs = NULL;
	const struct chassis_op	*cop = NULL;
	char			 target[300], why[512];
	const char		*what = "get chassis status";
	long long		 start = monotonic_ms(), left;
	unsigned int		 session_ms, retrans_ms;
	uint64_t		 on;
	size_t			 i;
	int			 port, opened = 0, rc = -1;

	*state = POWER_UNKNOWN;
	why[0] = '\0';
	port = b->port > 0 ? b->port : IPMI_PORT_DEFAULT;
	if (ipmi_settings_get(o, &s, why, sizeof(why)) == -1)
		goto out;
	if (b->host == NULL || b->host[0] == '\0' ||
	    strlen(b->host) > 253 || strchr(b->host, ':') != NULL) {
		snprintf(why, sizeof(why), "IPMI needs an IPv4 address or "
		    "host name");
		goto out;
	}
	if (b->user != NULL && strlen(b->user) > IPMI_MAX_USER_NAME_LENGTH) {
		snprintf(why, sizeof(why), "IPMI user names have at most %d "
		    "characters", IPMI_MAX_USER_NAME_LENGTH);
		goto out;
	}
	if (b->pass != NULL && strlen(b->pass) > (s.v20 ?
	    IPMI_2_0_MAX_PASSWORD_LENGTH : IPMI_1_5_MAX_PASSWORD_LENGTH)) {
		snprintf(why, sizeof(why), "IPMI %s passwords have at most %d "
		    "characters", s.v20 ? "2.0" : "1.5", s.v20 ?
		    IPMI_2_0_MAX_PASSWORD_LENGTH : IPMI_1_5_MAX_PASSWORD_LENGTH);
		goto out;
	}
	if (op != POWER_STAT) {
		for (i = 0; i < nitems(chassis_ops); i++)
			if (chassis_ops[i].op == op)
				cop = &chassis_ops[i];
		if (cop == NULL) {
			snprintf(why, sizeof(why), "unknown power operation");
			goto out;
		}
		what = cop->what;
	}
	snprintf(target, sizeof(target), "%s:%d", b->host, port);

	if (probe_start(&pr, b->host, port, why, sizeof(why)) == -1 ||
	    probe_check(&pr, IPMI_PROBE_WAIT_MS, port, why, sizeof(why)) == -1)
		goto out;

	/* The session timeout is what the probe left of timeout_ms. */
	left = o->timeout_ms - (monotonic_ms() - start);
	session_ms = left < IPMI_TIMEOUT_MIN_MS ? IPMI_TIMEOUT_MIN_MS :
	    (unsigned int)left;
	retrans_ms = retrans_for(session_ms, o->retries);

	if ((ctx = ipmi_ctx_create()) == NULL) {
		snprintf(why, sizeof(why), "out of memory");
		goto out;
	}
	if (s.v20)
		opened = ipmi_ctx_open_outofband_2_0(ctx, target, b->user,
		    b->pass, NULL, 0, s.priv, s.cipher, session_ms, retrans_ms,
		    s.flags, IPMI_FLAGS_DEFAULT) == 0;
	else
		opened = ipmi_ctx_open_outofband(ctx, target, b->user, b->pass,
		    IPMI_AUTHENTICATION_TYPE_MD5, s.priv, session_ms,
		    retrans_ms, s.flags, IPMI_FLAGS_DEFAULT) == 0;
	if (!opened) {
		ipmi_reason(ctx, NULL, "session", &s, o, &pr, port, why,
		    sizeof(why));
		goto out;
	}

	if (op == POWER_STAT) {
		if ((rs = fiid_obj_create(tmpl_cmd_get_chassis_status_rs)) ==
		    NULL) {
			snprintf(why, sizeof(why), "out of memory");
			goto out;
		}
		if (ipmi_cmd_get_chassis_status(ctx, rs) < 0) {
			ipmi_reason(ctx, rs, what, &s, o, &pr, port, why,
			    sizeof(why));
			goto out;
		}
		if (fiid_obj_get(rs, "current_power_state.power_is_on",
		    &on) < 0) {
			snprintf(why, sizeof(why), "chassis status without "
			    "a power state");
			goto out;
		}
		*state = on ? POWER_IS_ON : POWER_IS_OFF;
	} else {
		if ((rs = fiid_obj_create(tmpl_cmd_chassis_control_rs)) ==
		    NULL) {
			snprintf(why, sizeof(why), "out of memory");
			goto out;
		}
		if (ipmi_cmd_chassis_control(ctx, cop->control, rs) < 0) {
			ipmi_reason(ctx, rs, what, &s, o, &pr, port, why,
			    sizeof(why));
			goto out;
		}
	}
	rc = 0;
out:
	if (rc == -1) {
		if (port != IPMI_PORT_DEFAULT)
			snprintf(err, errsz, "%s:%d: %s", b->host != NULL ?
			    b->host : "", port, why);
		else
			snprintf(err, errsz, "%s: %s", b->host != NULL ?
			    b->host : "", why);
	}
	if (rs != NULL)
		fiid_obj_destroy(rs);
	if (ctx != NULL) {
		if (opened)
			ipmi_ctx_close(ctx);
		ipmi_ctx_destroy(ctx);
	}
	if (pr.fd != -1)
		close(pr.fd);
	return rc;
}
