/*
 * corral: shared types and prototypes.
 *
 * Every module's public surface is declared here, grouped by the file that
 * implements it.  A module's file prefix is its name (db_ lives in db.c).
 * Libraries are confined: libfcgi to req.c/resp.c, MariaDB to db.c, libjwt
 * and PAM to auth.c, OpenSSL's ciphers and MACs to crypto.c, freeipmi to
 * ipmi.c, libcurl to http.c (Redfish and webhooks call it),
 * libmicrohttpd to jobwait.c, ssh(1) to ssh.c and git(1) to git.c (the
 * last five corral-jobd only).
 */
#ifndef CORRAL_EXTERN_H
#define CORRAL_EXTERN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

/* The newest migration in sql/; a database at another version refuses to serve. */
#define SCHEMA_VERSION		15

#define UID_LEN			32	/* 32 lowercase hex from getrandom(2) */
#define NAME_MAX_LEN		253	/* names reach DNS, so a DNS name's bound */
#define MGMT_TENANT		"cw-management"
#define API_PREFIX		"/api/v1"	/* where nginx mounts the API */

#define nitems(a)		(sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ conf.c */

/*
 * The whole configuration, read once from an ini file.  Every key has a
 * default so an empty file is a valid (if useless) configuration.
 */
struct conf {
	/* [head] */
	char		*head_name;	/* last_modified_on; default: hostname */
	/* [api] */
	char		*api_socket;	/* FastCGI unix socket nginx connects to */
	int		 api_workers;
	int		 api_max_requests;	/* recycle a worker after this many */
	size_t		 api_max_body;	/* bytes; larger bodies get 413 */
	char		*api_log;	/* file, or NULL for stderr */
	/* [cache] the per-head read cache (cache.c, follow.c) */
	int		 cache_enabled;
	char		*cache_dir;	/* the LMDB environment */
	int		 cache_interval_ms;	/* the follower's poll */
	int		 cache_max_lag_ms;	/* older than this: read MariaDB */
	int		 cache_keep;	/* s the feed's rows are kept */
	int		 cache_size_mb;	/* LMDB map size */
	/* [db] */
	char		*db_socket;	/* unix socket of MariaDB, or NULL */
	char		*db_host;
	int		 db_port;
	char		*db_name;
	char		*db_user;
	char		*db_password;
	/* [auth] */
	char		*auth_secret_file;	/* >= 32 bytes, random, per head */
	char		*auth_passwd_file;	/* "user:crypt-hash" lines, or NULL */
	char		*auth_pam_service;	/* NULL or "" disables PAM */
	char		*auth_issuer;
	int		 auth_access_ttl;	/* seconds */
	int		 auth_refresh_ttl;	/* seconds */
	int		 auth_leeway;		/* clock skew allowed, seconds */
	/* [attributes] */
	char		*attr_secret_keys;	/* shown masked: "ipmi_pass ..." */
	char		*attr_node_protected;	/* more keys a node may not write */
	/* [secrets] */
	char		*secrets_key_dir;	/* master keys, <id>.key, mode 0600 */
	/* [jobd] */
	char		*jobd_socket;	/* datagram socket jobd wakes on */
	int		 jobd_workers;	/* jobs run at once */
	/* [tenants] */
	int		 tenants_worker_pool;	/* workers tenants share; 0: [jobd] workers */
	int		 tenants_token_ttl;	/* s a tenancy token lasts by default */
	int		 jobd_poll_ms;	/* fallback poll when no wake-up came */
	char		*jobd_log;
	int		 jobd_lease;	/* s a job's heartbeat stays good */
	int		 jobd_nice;	/* runners' nice value: the API goes first */
	char		*jobd_wait_socket; /* where nginx hands waiting requests */
	char		*jobd_spool;	/* exec output files */
	int		 jobd_spool_keep; /* s an output file is kept */
	/* [power] */
	int		 power_timeout_ms;	/* one BMC operation */
	int		 power_retries;
	int		 power_ipmi_version;	/* 15 or 20 */
	int		 power_ipmi_cipher;
	char		*power_ipmi_priv;
	char		*power_ipmi_workarounds;
	char		*power_ca_bundle;
	int		 power_tls_verify;
	int		 power_wait;		/* s a synchronous call waits */
	int		 power_off_wait;	/* s a graceful off may take */
	char		*power_ssh_command;	/* what "ssh" off steps run */
	int		 power_per_bmc;		/* jobs at once per BMC host */
	int		 power_stagger_ms;	/* between a batch's power-ons */
	char		*power_busy;		/* "wait" or "refuse" */
	/* [hooks] webhooks (api_hook.c hook.c run_hook.c) */
	char		*hooks_allow;	/* CIDRs a hook may reach though refused */
	char		*hooks_deny;	/* more CIDRs refused: the BMC networks */
	int		 hooks_timeout;	/* s a hook may take, unless it says */
	int		 hooks_retries;	/* of a non-blocking hook's delivery */
	int		 hooks_backoff;	/* s before the first retry; doubles */
	int		 hooks_backoff_max; /* s: the longest wait between tries */
	char		*hooks_ca_bundle;	/* NULL: the system's CA store */
	int		 hooks_tls_verify;
	int		 hooks_test_route;	/* POST /_hooktest answers (tests) */
	/* [exec] */
	char		*exec_user;
	int		 exec_port;
	char		*exec_key;		/* the head's ed25519 key */
	int		 exec_time_limit;	/* s */
	size_t		 exec_max_output;	/* bytes; 0 none */
	int		 exec_connect_timeout;	/* s */
	/* [status] */
	int		 status_stale_after;	/* s of silence that make a node stale */
	/* [files] */
	char		*files_dir;	/* the artifact store (fstore.c) */
	/* [git] */
	char		*git_dir;	/* <dir>/<tenant id>/<gitrepo UID>.git */
	int		 git_timeout;	/* s one git command may run */
	size_t		 git_max_file;	/* bytes /gitrepo/:id/repo answers */
	/* [iso] (run_mkiso.c) */
	char		*iso_mkrescue;		/* grub-mkrescue */
	int		 iso_wait;		/* s a synchronous mkiso waits */
	int		 iso_time_limit;	/* s building one ISO may take */
	/* [capture] (run_capture.c) */
	char		*capture_root;		/* the tree captured on a node: "/" */
	char		*capture_compress;	/* squashfs compressor by default */
	char		*capture_tar2sqfs;	/* tar2sqfs (squashfs-tools-ng) */
	int		 capture_wait;		/* s a synchronous capture waits */
	int		 capture_time_limit;	/* s one capture may take */
	/* [boot] the iPXE script and its links (api_boot.c, boot.c) */
	char		*boot_link_secret_file;	/* shared with nginx's secure_link */
	int		 boot_link_ttl;		/* s a signed link stays good */
	char		*boot_event_socket;	/* jobd's boot event datagrams */
	int		 boot_retry_min;	/* s a waiting node sleeps, at least */
	int		 boot_retry_max;	/* and at most */
	/* [boot] dnsmasq (dhcp.c; the mode is set by conf_load) */
	char		*boot_interface;	/* NULL: no DHCP/TFTP/DNS served */
	char		*boot_address;		/* NULL: the interface's first IPv4 */
	char		*boot_url;		/* NULL: http://<address> */
	char		*boot_dnsmasq;		/* managed, external or off */
	char		*boot_dnsmasq_dir;	/* generated files, pid, leases, log */
	char		*boot_dnsmasq_pid_file;	/* whom external mode SIGHUPs */
	char		*boot_dnsmasq_bin;	/* what managed mode runs */
	int		 boot_dns_port;		/* 0: no DNS */
	char		*boot_tftp;		/* on or off */
	char		*boot_ipxe_dir;		/* the TFTP root: iPXE binaries */
	char		*boot_uefi_binary;	/* ipxe.efi or snponly.efi */
	int		 boot_lease_time;	/* s */
	char		*boot_dhcp_pool;	/* "FIRST,LAST" for unknown MACs, or NULL */
	/*
	 * [boot] boot-time templates and installers (api_boottmpl.c):
	 * kickstart, ZTP and ignition files; installers, packages by
	 * packaging system, the ignition binary.
	 */
	char		*boot_kickstart_dir;
	char		*boot_install_dir;
};

int		 conf_load(struct conf *, const char *path);
void		 conf_free(struct conf *);
int		 conf_list_has(const char *list, const char *word);

/* ------------------------------------------------------------------ util.c */

void		*xmalloc(size_t);
void		*xcalloc(size_t, size_t);
void		*xrealloc(void *, size_t);
char		*xstrdup(const char *);
int		 write_all(int fd, const void *, size_t);
char		*xstrndup(const char *, size_t);
void		 wipe(void *, size_t);
int		 xasprintf(char **, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
int		 uid_new(char out[UID_LEN + 1]);
int		 uid_valid(const char *);
long long	 num_parse(const char *, long long min, long long max,
		    const char **errstr);
double		 time_now(void);	/* epoch seconds, microsecond precision */
long long	 monotonic_ms(void);
int		 random_bytes(void *, size_t);
int		 unix_bind(const char *path, int type);
int		 valid_name(const char *);
int		 valid_text(const char *, size_t max);
int		 valid_dnsname(const char *);
int		 hex_digit(char);
void		 utf8_clean(char *);

#define IP_STR_MAX		46	/* INET6_ADDRSTRLEN */
int		 ip_parse(const char *, unsigned char out[16]);
const char	*ip_format(const unsigned char[16], int fam, char *buf);
int		 ip_same_prefix(const unsigned char *, const unsigned char *, int bits);
int		 ip_add(unsigned char[16], unsigned long long);
long long	 ip_diff(const unsigned char[16], const unsigned char[16]);

/* ------------------------------------------------------------------ set.c */

/*
 * A set of fixed-width keys (indexes, addresses), kept sorted: lookups
 * are a binary search, and keys added in ascending order (as assignment
 * hands them out) are appended.
 */
struct keyset {
	unsigned char	*keys;
	size_t		 n, cap, width;
};

void		 keyset_init(struct keyset *, size_t width);
void		 keyset_free(struct keyset *);
int		 keyset_has(const struct keyset *, const void *key);
int		 keyset_add(struct keyset *, const void *key);	/* 1 new, 0 had it */
void		 keyset_index_key(long long, unsigned char out[8]);

/* ------------------------------------------------------------------ log.c */

enum loglvl { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void		 log_open(const char *prog, const char *path);
void		 log_set_request(const char *request_id);
void		 log_msg(enum loglvl, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)

/* ------------------------------------------------------------------ db.c */

/*
 * Every SQL statement corral runs.  The text lives in one table in db.c;
 * callers name a statement and bind arguments with a format string:
 *   's' const char * (NULL binds NULL), 'i' long long, 'd' double.
 * Results are fetched with the same letters into char ** (new allocation,
 * NULL for SQL NULL), long long * and double *.
 */
enum sql {
	/* Safe to run again after a lost connection (see db.c). */
	SQL_SCHEMA_VERSION,
	SQL_TENANT_BY_NAME,
	SQL_TENANT_BY_ID,
	SQL_OBJ_LIST,
	SQL_OBJ_LIST_ALL,
	SQL_OBJ_BY_UID,
	SQL_OBJ_BY_NAME,
	SQL_OBJ_BY_NAME_ANY,
	SQL_OBJ_BY_KEY,
	SQL_KEY_MAX,
	SQL_REF_WHO,
	SQL_REFRESH_INSERT,
	SQL_REFRESH_REVOKE_FAMILY,
	SQL_AUDIT_LIST_UP,
	SQL_AUDIT_LIST_DOWN,
	SQL_CLUSTER_LIST,
	SQL_CLUSTER_SET,
	SQL_TENANT_SETTING_LIST,
	SQL_TENANT_SETTING_GET,
	SQL_TENANT_SETTING_SET,
	SQL_JOB_INSERT,
	SQL_JOB_GET,
	SQL_JOB_LOAD,
	SQL_JOB_FINISH,
	SQL_JOB_BEAT,
	SQL_JOB_FAIL_ORPHANS,
	SQL_JOB_REQUEUE_ORPHANS,
	SQL_JOB_EXPIRE,
	SQL_JOB_CANCEL,
	SQL_JOB_ACTIVE,
	SQL_TENANT_WORKERS,
	SQL_JOB_ENDED,
	SQL_JOB_LIST,
	SQL_JOB_STATS,
	SQL_JOB_NODE_BUSY,
	SQL_BATCH_INSERT,
	SQL_BATCH_GET,
	SQL_BATCH_JOBS,
	SQL_POWER_PUT,
	SQL_POWER_GET,
	SQL_NODE_POWER_LIST,
	SQL_HOSTKEY_GET,
	SQL_HOSTKEY_PUT,
	SQL_HOSTKEY_DELETE,
	SQL_STATUS_GET,
	SQL_STATUS_PUT,
	SQL_NODE_SCAN,
	SQL_OBJ_UIDS,
	SQL_REF_FROM,
	SQL_SECRET_LIST,
	SQL_MASTER_CURRENT,
	SQL_TENANT_KEY_OF,
	SQL_TENANT_KEY_GET,
	SQL_TENANT_KEY_INSERT,
	SQL_FILE_REF_GET,
	SQL_FILE_USES,
	SQL_FILE_UNUSED,
	SQL_FILE_ALL,
	SQL_FILE_ADD,
	SQL_GITSYNC_SEED,
	SQL_GITSYNC_TAKE,
	SQL_GITSYNC_DONE,
	SQL_GITSYNC_GET,
	SQL_DHCP_FINGERPRINT,
	SQL_DHCP_OBJECTS,
	SQL_TENANT_GET,
	SQL_TENANT_ALL,
	SQL_TENANT_USAGE,
	SQL_TENANT_POOL,
	SQL_TENANT_JOBCOUNT,
	SQL_TENANCY_OF_NODE,
	SQL_TENANCY_MEMBERS,
	SQL_TENANCY_AVAILABLE,
	SQL_TENANCY_IDS,
	SQL_TENANCY_IDS_USED,
	SQL_TENANCY_TOKEN_GET,
	SQL_TENANCY_TOKENS,
	SQL_NODEHOME_GET,
	SQL_WRAPKEY_GET,
	SQL_TENANT_OBJS_OF,
	SQL_TENANT_STATE_OF,
	SQL_CHANGES_NEW,
	SQL_CHANGES_RANGE,
	SQL_CHANGES_MINE,
	SQL_CHANGES_START,
	SQL_CHANGES_TRIM,
	/* Run at most once. */
	SQL__ONCE,
	SQL_OBJ_LOCK = SQL__ONCE,
	SQL_OBJ_INSERT,
	SQL_OBJ_UPDATE,
	SQL_OBJ_DELETE,
	SQL_KEY_INSERT,
	SQL_KEY_DELETE_ALL,
	SQL_REF_INSERT,
	SQL_REF_DELETE_ALL,
	SQL_REFRESH_GET,
	SQL_REFRESH_USE,
	SQL_AUDIT_INSERT,
	SQL_JOB_CLAIMABLE,
	SQL_JOB_CLAIM,
	SQL_JOB_START,
	SQL_TENANT_LOCK,
	SQL_KEY_VALUES,
	SQL_SECRET_PUT,
	SQL_SECRET_DELETE,
	SQL_MASTER_FIRST,
	SQL_MASTER_LOCK,
	SQL_MASTER_ADD,
	SQL_MASTER_RETIRE,
	SQL_TENANT_KEYS_LOCK,
	SQL_TENANT_KEY_REWRAP,
	SQL_SECRET_CLEAR_LOCK,
	SQL_FILE_LOCK,
	SQL_FILE_REF_LOCK,
	SQL_FILE_REF_PUT,
	SQL_FILE_REF_DELETE,
	SQL_FILE_DELETE,
	SQL_BOOT_GET,
	SQL_BOOT_LOCK,
	SQL_BOOT_PUT,
	SQL_JOB_GATE_USE,
	SQL_JOB_RETRY,
	SQL_TENANT_INSERT,
	SQL_TENANT_UPDATE,
	SQL_TENANT_STATE,
	SQL_TENANT_DELETE,
	SQL_TENANT_JOBS_CANCEL,
	SQL_TENANT_REFS_DROP,
	SQL_TENANT_OBJS_DROP,
	SQL_TENANT_KEY_DROP,
	SQL_NODE_TENANCY_SET,
	SQL_NODE_TENANCY_CLEAR,
	SQL_TENANCY_ID_ADD,
	SQL_TENANCY_IDS_DROP,
	SQL_TENANCY_IDS_DROP_KIND,
	SQL_TENANCY_TOKEN_ADD,
	SQL_TENANCY_TOKEN_REVOKE,
	SQL_NODE_STATUS_WIPE,
	SQL_NODE_BOOT_WIPE,
	SQL_TENANT_KMS,
	SQL_WRAPKEY_INSERT,
	SQL_WRAPKEY_REWRAP,
	SQL_WRAPKEY_DROP,
	SQL_TENANT_KEY_WRAP_SET,
	SQL_FILE_REFS_COPY,
	SQL_TENANT_SETTINGS_COPY,
	SQL__MAX
};

enum dbrc {
	DB_OK,		/* done; for db_next: a row was fetched */
	DB_DONE,	/* db_next: no more rows */
	DB_DUP,		/* unique key violated */
	DB_REF,		/* foreign key violated */
	DB_CONFLICT,	/* a concurrent change won (deadlock, certification) */
	DB_GONE,	/* connection lost; reconnect was scheduled */
	DB_ERROR	/* anything else; logged */
};

struct db;

struct db	*db_open(const struct conf *);	/* connects and prepares */
void		 db_close(struct db *);
int		 db_ready(struct db *);	/* reconnect if needed; 0 = usable */
enum dbrc	 db_run(struct db *, enum sql, const char *fmt, ...);
enum dbrc	 db_next(struct db *, enum sql, const char *fmt, ...);
void		 db_done(struct db *, enum sql);
int		 db_prepare_all(struct db *);
long long	 db_affected(struct db *, enum sql);
long long	 db_insert_id(struct db *, enum sql);
enum dbrc	 db_begin(struct db *);
enum dbrc	 db_commit(struct db *);
void		 db_rollback(struct db *);
int		 db_in_tx(const struct db *);
int		 db_take_wrote(struct db *);

/* ------------------------------------------------------------------ auth.c */

/* Roles, as bits.  role.fulladmin implies every other role. */
#define ROLE_AUTHUSER		0x01u	/* read */
#define ROLE_OPERATOR		0x02u	/* power, exec, status */
#define ROLE_CONFIGADMIN	0x04u	/* create and change objects */
#define ROLE_FULLADMIN		0x08u	/* everything in its tenant */
#define ROLES_ALL		0x0fu

enum toktype { TOK_ACCESS, TOK_REFRESH, TOK_TENANCY };

/* What a verified token says.  Strings are NUL-terminated and bounded. */
struct claims {
	enum toktype	 typ;
	char		 sub[UID_LEN + 1];	/* admin uid */
	char		 name[NAME_MAX_LEN + 1];/* admin name */
	long long	 tid;			/* tenant id */
	unsigned int	 roles;			/* ROLE_* bits */
	char		 jti[UID_LEN + 1];	/* token id */
	char		 fam[UID_LEN + 1];	/* refresh family, "" on access */
	long long	 iat, nbf, exp;
};

/* The head's signing key and token policy. */
struct authkey {
	unsigned char	 secret[256];
	size_t		 secretlen;	/* >= 32 or auth_key_load fails */
	char		 issuer[64];
	int		 leeway;
};

enum tokrc {
	TOKEN_OK,
	TOKEN_MALFORMED,	/* shape, size, encoding, header */
	TOKEN_BADSIG,
	TOKEN_EXPIRED,
	TOKEN_NOTYET,		/* nbf or iat in the future */
	TOKEN_WRONGTYPE,	/* refresh used as access or the reverse */
	TOKEN_BADCLAIMS		/* missing, mistyped or foreign claims */
};

int		 auth_key_load(struct authkey *, const char *path,
		    const char *issuer, int leeway);
int		 token_shape_ok(const char *tok, size_t len);
char		*token_make(const struct authkey *, const struct claims *);
enum tokrc	 token_check(const struct authkey *, const char *tok,
		    enum toktype want, time_t now, struct claims *out);
const char	*token_strerror(enum tokrc);
int		 passwd_check(const char *file, const char *user, const char *pass);
int		 pam_check(const char *service, const char *user, const char *pass);
int		 role_parse(const char *name, unsigned int *bit);
const char	*role_name(unsigned int bit);
json_t		*roles_json(unsigned int roles);	/* new reference */

/* ------------------------------------------------------------------ ctx.c */

/*
 * Outcomes.  resp.c maps each to an HTTP status and renders
 * {"success": false, "reason": ...} from the context's reason.
 */
enum apierr {
	API_OK,			/* 200 */
	API_BAD_REQUEST,	/* 400 */
	API_UNAUTHORIZED,	/* 401 */
	API_FORBIDDEN,		/* 403 */
	API_NOT_FOUND,		/* 404 */
	API_BAD_METHOD,		/* 405 */
	API_CONFLICT,		/* 409 */
	API_TOO_LARGE,		/* 413 */
	API_BAD_MEDIA,		/* 415 */
	API_INTERNAL,		/* 500 */
	API_BAD_GATEWAY,	/* 502: a BMC or node failed or refused */
	API_UNAVAILABLE,	/* 503 */
	API_TIMEOUT,		/* 504: a job did not end within the wait */
	API_NO_SPACE,		/* 507: the artifact store is full */
	API__MAX
};

#define SCOPE_ALL	0LL	/* scope.tenant: every tenant */
#define SCOPE_NONE	(-1LL)	/* scope.tenant: no tenant at all */
#define ACTOR_MAX	(NAME_MAX_LEN + 16)

/*
 * Whom an engine call works for: the tenant its reads and writes are
 * confined to, the name it writes as (last_modified_by) and the roles
 * that name holds.  A value, built where the call is made, so a wider
 * view than the caller's is visible at the call site.
 */
struct scope {
	long long	 tenant;		/* SCOPE_ALL, SCOPE_NONE or an id */
	unsigned int	 roles;			/* ROLE_* bits */
	char		 actor[ACTOR_MAX];	/* "admin1", "node:n3", "jobd" */
	char		 actor_uid[UID_LEN + 1];/* the admin acting, or "" */
};

struct scope	 scope_of_tenant(long long tenant, unsigned int roles,
		    const char *actor);
struct scope	 scope_nobody(void);
int		 scope_sees_secrets(const struct scope *, long long tenant);

/*
 * One engine call's working state: a database connection, the scope,
 * the reason of a failure for the client, and what the operation caches
 * for the length of its transaction (node assignment).  A request holds
 * one; corral-jobd, tools and wider lookups make their own.
 */
struct ctx {
	struct db		*db;
	const struct conf	*conf;
	struct scope		 scope;
	char			 reason[512];	/* valid UTF-8, always */
	void			*cache;
	void			 (*cache_free)(void *);
};

void		 ctx_init(struct ctx *, struct db *, const struct conf *,
		    struct scope);
void		 ctx_clear(struct ctx *);
enum apierr	 ctx_fail(struct ctx *, enum apierr, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
enum apierr	 ctx_vfail(struct ctx *, enum apierr, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));
enum apierr	 ctx_internal(struct ctx *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
enum apierr	 ctx_dbfail(struct ctx *, enum dbrc);
enum apierr	 ctx_pass(struct ctx *to, const struct ctx *from, enum apierr);

/* ------------------------------------------------------------------ json.c */

/*
 * Fields: a class's field table drives body checks, storage, output and
 * /meta.  A route's body spec is its class's field table or one of its
 * own.  Checks are pure: they return the outcome and write the reason.
 */
enum ftype {
	F_STRING, F_TEXT, F_NAME, F_INT, F_BOOL, F_OBJECT, F_ARRAY_STR,
	F_ROLES, F_ANY,
	F_REF,		/* another object (field.ref class), by UID or name; stored as UID */
	F_REF_LIST,	/* a list of such, order kept */
	F_ENUM,		/* one of field.choices */
	F_IP,		/* an IPv4 or IPv6 address */
	F_MAC,		/* a MAC address; stored as aa:bb:cc:dd:ee:ff */
	F_ATTRS,	/* key-value pairs; secret keys are sealed (attrs.c) */
	F__MAX
};

#define F_REQUIRED	0x01u	/* must be present on create and PUT */
#define F_READONLY	0x02u	/* shown, never written by clients */
#define F_UNIQUE	0x04u	/* a second identifier, unique cluster-wide */
#define F_SECRET	0x08u	/* stored sealed; shown as "********" when set */

struct field {
	const char		*name;
	enum ftype		 type;
	unsigned int		 flags;
	size_t			 max;		/* string length or int maximum */
	const char		*summary;	/* for /meta */
	const char		*ref;		/* F_REF*: the class referred to */
	const char *const	*choices;	/* F_ENUM: NULL-terminated */
};

/*
 * A field table's rows: FIELD(name, type, flags, max, summary), and for
 * the types that need more, a reference's class or an enum's choices
 * before the summary.
 */
#define FIELD(n, t, fl, mx, sum)	{ (n), (t), (fl), (mx), (sum), NULL, NULL }
#define FIELD_REF(n, t, fl, mx, cls, sum) \
	{ (n), (t), (fl), (mx), (sum), (cls), NULL }
#define FIELD_ENUM(n, t, fl, mx, ch, sum) \
	{ (n), (t), (fl), (mx), (sum), NULL, (ch) }

struct bodyspec {
	const struct field	*fields;
	size_t			 nfields;
	int			 any;	/* any JSON body; the handler checks it */
	int			 raw;	/* the handler decodes the body itself */
};

/* A field table as a body spec: .spec = FIELDS(node_fields). */
#define FIELDS(t)	{ .fields = (t), .nfields = nitems(t), .any = 0, .raw = 0 }

#define REASON_MAX	512

json_t		*json_decode_strict(const char *, size_t, char *err, size_t errsz);
enum apierr	 json_check_object(const struct bodyspec *, const json_t *obj,
		    int partial, char *why, size_t whysz);
enum apierr	 json_check_field(const struct field *, const json_t *,
		    char *why, size_t whysz);
int		 valid_ip(const char *);

/* How json_keys_edit changes an object's keys. */
enum keyedit {
	KEYEDIT_MERGE,		/* set the body's keys, keep the rest */
	KEYEDIT_REPLACE,	/* keep only the body's keys */
	KEYEDIT_REMOVE		/* drop the named keys; all of them for no body */
};
json_t		*json_keys_edit(const json_t *base, const json_t *body,
		    enum keyedit);
int		 mac_normalize(const char *, char out[18]);
int		 json_list_has(const json_t *list, const char *s);
int		 valid_url(const char *);
int		 valid_host(const char *);
int		 valid_branch(const char *);
void		 json_drop_nulls(json_t *obj);
size_t		 json_size(const json_t *);
json_t		*json_repeated_key(const char *, size_t, const char *key,
		    char *err, size_t errsz);

/* ------------------------------------------------------------------ out.c */

/*
 * A growing text buffer for answers written by hand: lists and objects
 * spliced from their stored JSON rather than decoded and encoded again.
 */
struct outbuf {
	char	*p;
	size_t	 len, cap;
};

void		 out_add(struct outbuf *, const char *, size_t);
void		 out_str(struct outbuf *, const char *);
void		 out_printf(struct outbuf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 out_jstr(struct outbuf *, const char *);
void		 out_seconds(struct outbuf *, double);
void		 out_free(struct outbuf *);

/* ------------------------------------------------------------------ obj.c */

/* How a change is applied: what obj_change and the prepare hook see. */
enum how {
	HOW_CREATE,	/* a new object */
	HOW_REPLACE,	/* PUT: fields not sent go to their defaults */
	HOW_PATCH	/* PATCH: only the sent fields change */
};

struct objrow {
	char		*uid;
	char		*name;
	long long	 tenant_id;
	json_t		*doc;		/* owned; never holds a null value */
	long long	 version;	/* 0: not stored yet */
	double		 last_modified;
	char		*last_modified_on;
	char		*last_modified_by;
};

/*
 * An object class: its field table drives validation, storage, JSON output
 * and /meta.  Class files declare one with designated initializers and add
 * only what is special to them through the hooks.
 */
struct objclass {
	const char		*name;		/* "admin": stored class, /admin/:id */
	const char		*plural;	/* "admins" */
	const char		*label;		/* "admin" in reasons */
	struct bodyspec		 spec;		/* FIELDS(admin_fields) */
	int			 global_names;	/* names unique across tenants */
	int			 client_uid;	/* the client may choose the UID */
	size_t			 bulk_max;	/* POST also takes a list of this many */
	/* Set for classes with a "frozen" field: the reason a change is refused. */
	const char		*frozen_reason;
	/* Fill defaults and check cross-field rules; may change doc. */
	enum apierr		(*prepare)(struct ctx *, json_t *doc, enum how);
	/* Whether the scope may apply change to the stored object. */
	enum apierr		(*may_change)(struct ctx *, const struct objrow *,
				    const json_t *change);
	/* Whether the scope may delete the object. */
	enum apierr		(*may_delete)(struct ctx *, const struct objrow *);
	/*
	 * Fill what the server assigns (a node's name, index, IP) or check
	 * what needs the database (a pattern against the indexes in use),
	 * in the write's transaction, before it is stored.  before is the
	 * stored document (NULL on create), change what the client sent.
	 */
	enum apierr		(*assign)(struct ctx *, struct objrow *o,
				    const json_t *before, const json_t *change);
	/*
	 * Extra identifiers unique across the cluster beyond F_UNIQUE
	 * fields: appends [kind, value, "what=shown"] triples to keys.
	 */
	void			(*keys)(const struct objrow *o, json_t *keys);
	/* The class keys() adds its keys under, if not this one's (nodehome). */
	const char		*keys_class;
};

/* Computes a PATCH-style change (new reference) from the locked stored row. */
typedef enum apierr (*change_fn)(struct ctx *, const struct objrow *stored,
		    const void *arg, json_t **change);
/* Called with each object of obj_each. */
typedef void	(*each_fn)(const struct objrow *, void *arg);
/* Whether a rendered object matches what a search endpoint was given. */
typedef int	(*match_fn)(const json_t *obj, const char *uid, const char *what);

void		 objrow_free(struct objrow *);
enum dbrc	 obj_row_next(struct ctx *, enum sql, struct objrow *);
json_t		*obj_render(const struct objclass *, const struct objrow *);
enum apierr	 obj_find(struct ctx *, const struct objclass *, const char *id,
		    int for_update, struct objrow *out);
enum apierr	 obj_find_text(struct ctx *, const struct objclass *,
		    const char *id, struct objrow *, char **text);
enum apierr	 obj_list(struct ctx *, const struct objclass *, json_t **out);
enum apierr	 obj_list_text(struct ctx *, const struct objclass *,
		    struct outbuf *);
enum apierr	 obj_get_text(struct ctx *, const struct objclass *,
		    const char *id, struct outbuf *);
enum apierr	 obj_create(struct ctx *, const struct objclass *, json_t *doc,
		    long long tenant_id, char uid[UID_LEN + 1]);
enum apierr	 obj_create_list(struct ctx *, const struct objclass *,
		    const json_t *list, long long tenant_id, json_t **uids);
enum apierr	 obj_change(struct ctx *, const struct objclass *, const char *id,
		    json_t *change, enum how);
enum apierr	 obj_change_by(struct ctx *, const struct objclass *,
		    const char *id, change_fn, const void *arg);
/* obj_field_edit's arg: which object-valued field, and how to edit it. */
struct fieldedit {
	const char	*field;
	enum keyedit	 op;
	const json_t	*body;		/* the keys to set or remove; NULL: all */
};
enum apierr	 obj_field_edit(struct ctx *, const struct objrow *,
		    const void *arg, json_t **change);
enum apierr	 obj_delete(struct ctx *, const struct objclass *, const char *id);
enum apierr	 obj_store(struct ctx *, const struct objclass *, struct objrow *);
enum apierr	 obj_each(struct ctx *, const struct objclass *, long long tid,
		    each_fn, void *arg);
enum apierr	 obj_ref_load(struct ctx *, const char *refclass,
		    const char *field, long long tenant_id, const char *id,
		    struct objrow *out);
enum apierr	 obj_search(struct ctx *, const struct objclass *, match_fn,
		    const char *what, json_t **out);
json_t		*obj_meta(const struct objclass *);
enum apierr	 obj_lock(struct ctx *, const char *uid);
long long	 tenant_lookup(struct ctx *, const char *name, enum apierr *);
enum apierr	 tenant_lock(struct ctx *, long long tid);

/* ------------------------------------------------------------------ tenant.c */

/* A tenant's row (tenant.c); strings and JSON owned, tenant_free() them. */
struct tenant {
	long long	 id;
	char		 uid[UID_LEN + 1];
	char		*name, *label, *description, *customer, *state;
	long long	 workers;
	long long	 max_tenancies, max_nodes;	/* -1: no limit */
	json_t		*hooks;		/* secrets sealed */
	json_t		*kms;		/* enablekms, keyname, keytype, status */
	int		 bootstrap;
	double		 created_at, last_modified;
	long long	 version;
	char		*last_modified_on, *last_modified_by;
};

void		 tenant_free(struct tenant *);
enum apierr	 tenant_load(struct ctx *, const char *id, struct tenant *);
enum apierr	 tenant_load_id(struct ctx *, long long id, struct tenant *);
enum apierr	 tenant_usage(struct ctx *, long long tid, long long *tenancies,
		    long long *nodes);
long long	 tenant_mgmt_id(struct ctx *);
enum apierr	 tenant_state(struct ctx *, long long tid, char *state,
		    size_t sz);
long long	 tenant_pool_size(const struct conf *);
enum apierr	 tenant_workers_json(struct ctx *, long long tid, json_t **);
json_t		*tenant_json(struct ctx *, const struct tenant *);
enum apierr	 tenant_create(struct ctx *, const json_t *body, struct tenant *);
enum apierr	 tenant_change(struct ctx *, struct tenant *, const json_t *body,
		    enum how);
enum apierr	 tenant_set_state(struct ctx *, long long tid, const char *);
enum apierr	 tenant_set_kms(struct ctx *, long long tid, const json_t *);
enum apierr	 tenant_may_delete(struct ctx *, const struct tenant *);
enum apierr	 tenant_bootstrap(struct ctx *, long long tid);
enum apierr	 tenant_remove(struct ctx *, long long tid, json_t *poweroff);
json_t		*tenant_resources(struct ctx *, const struct tenant *);

/* tenancy.c: tenancies, node leases, tenancy tokens */
extern const struct objclass tenancy_class, nodehome_class;
enum apierr	 tenancy_empty(struct ctx *, const char *tenancy_uid,
		    json_t *poweroff);
enum apierr	 tenancy_move(struct ctx *, const struct objrow *tenancy,
		    const json_t *macs, int out, json_t *poweroff, json_t **done);
enum apierr	 tenancy_of_node(struct ctx *, const char *node_uid, char **name);
enum apierr	 tenancy_members(struct ctx *, const struct objrow *tenancy,
		    json_t **out);
enum apierr	 tenancy_render(struct ctx *, const struct objrow *, json_t **);
enum apierr	 nodehome_load(struct ctx *, const char *node_uid,
		    struct objrow *out);
enum apierr	 tenancy_poweroff_queue(struct ctx *, const json_t *nodes);
enum apierr	 tenancy_token_live(struct ctx *, const struct claims *);
enum apierr	 tenancy_token_new(struct ctx *, const struct authkey *,
		    const struct objrow *, long long ttl, const char *who,
		    char **tok, char jti[UID_LEN + 1], long long *exp);
enum apierr	 tenancy_tokens(struct ctx *, const struct objrow *, json_t **);
enum apierr	 tenancy_tokens_revoke(struct ctx *, const struct objrow *,
		    const char *jti, long long *n);

/* ------------------------------------------------------------------ crypto.c */

/*
 * Secret values encrypted at rest (AES-256-GCM under per-tenant data keys
 * wrapped by the head's master key; see crypto.c).  A sealed value is the
 * string "cs1:<data key id>:<base64>".
 */
#define SEAL_PREFIX	"cs1:"

enum apierr	 crypto_master_ensure(struct ctx *);
enum apierr	 crypto_seal(struct ctx *, long long tenant, const char *uid,
		    const char *key, const char *clear, char **sealed);
enum apierr	 crypto_unseal(struct ctx *, const char *uid, const char *key,
		    const char *sealed, char **clear);
enum apierr	 crypto_rekey(struct ctx *, char id[UID_LEN + 1],
		    long long *rewrapped);
void		 crypto_clear_free(char *);
enum apierr	 crypto_tenant_key(struct ctx *, long long tenant,
		    const char *name, const char *type, json_t **status);
void		 crypto_forget(void);
int		 crypto_link_sign(const char *text, char out[23]);
int		 crypto_equal(const char *a, const char *b);
int		 crypto_digest_file(int fd, long long size, char *sha256,
		    char *sha1, char *md5);
int		 crypto_hmac_sha256_b64(const void *key, size_t keylen,
		    const char *msg, size_t msglen, char *out, size_t outsz);
int		 crypto_hook_key(const char *secret, unsigned char **key,
		    size_t *keylen);
int		 crypto_sha256_hex(const void *, size_t, char out[65]);

/* ------------------------------------------------------------------ attrs.c */

#define SECRET_MASK	"********"

/*
 * What merging nodes' attributes needs, loaded once: the groups, the
 * pools' groups and the tenant's default group.
 */
struct attrview {
	json_t	*groups;	/* attribute group UID -> its attributes */
	json_t	*byname;	/* group name -> UID, in the tenant loaded */
	json_t	*pool_group;	/* naming pool UID -> group UID */
	char	*default_group;	/* the tenant's default_group, or NULL */
	int	 clear;		/* groups hold secret values in the clear */
};

enum apierr	 attrs_check(const json_t *attrs, char *why, size_t whysz);
int		 attr_is_secret(const struct conf *, const char *key);
enum apierr	 attrs_seal(struct ctx *, const struct objclass *,
		    struct objrow *o, json_t **sealed);
enum apierr	 attrs_seal_write(struct ctx *, const char *uid,
		    const json_t *sealed);
enum apierr	 attrs_unseal(struct ctx *, const char *uid, json_t *attrs);
enum apierr	 attrs_secrets_copy(struct ctx *, const char *from_uid,
		    const char *to_uid, long long to_tenant);
enum apierr	 attrs_seal_stored(struct ctx *, long long *sealed);
enum apierr	 attrs_node_view(struct ctx *, const struct objrow *node,
		    int clear, json_t **out);
enum apierr	 attrview_load(struct ctx *, long long tid, int clear,
		    struct attrview *);
void		 attrview_free(struct attrview *);
json_t		*attrs_merged(const struct attrview *, const json_t *node_doc,
		    const json_t *node_own);
enum apierr	 attrs_node_may_write(struct ctx *, const struct objrow *node,
		    const json_t *attrs);

/* ------------------------------------------------------------------ settings.c */

extern const struct bodyspec b_cluster;
enum apierr	 settings_get(struct ctx *, long long tenant, int show_secrets,
		    json_t **out);
enum apierr	 settings_patch(struct ctx *, long long tenant, const json_t *body,
		    int may_cluster);
enum apierr	 setting_string(struct ctx *, long long tenant, const char *k,
		    char **out);

/* ------------------------------------------------------------------ assign.c */

/*
 * Node assignment (index, name, address, domain).  The rules are pure
 * functions over plain sets so they can be tested without a database;
 * node_assign is the class hook that feeds them from it.
 */
int		 assign_index(const struct keyset *used, long long first,
		    long long *cursor, long long *out);
const char	*assign_net_ip(const json_t *net, long long idx,
		    const struct keyset *used, const char *mine,
		    char buf[IP_STR_MAX + 1]);
const char	*assign_ip_plus(const char *base, long long off,
		    char buf[IP_STR_MAX + 1]);
const json_t	*assign_net_for_index(const json_t *nets, long long idx);
const json_t	*assign_net_holding(const json_t *nets, const char *ip);
enum apierr	 node_assign(struct ctx *, struct objrow *, const json_t *before,
		    const json_t *change);
void		 node_index_keys(const struct objrow *, json_t *keys);
enum apierr	 node_index_max(struct ctx *, long long tid, const char *pool,
		    long long *max);

/*
 * The pure parsers (naming.c, tmpl.c, uri.c): no database, request or
 * log; bad input gives -1 (or NULL) and a reason for the client in err.
 * Positions in reasons count from 1.
 */
/* ------------------------------------------------------------------ naming.c */

#define NAMING_LABEL_MAX	63		/* a generated name is one DNS label */
#define NAMING_INDEX_MAX	999999999LL	/* nine digits at most */

/*
 * A naming-pool pattern, "gpu{:03d}": prefix, one placeholder, suffix.
 * width is 0 for "{}" and "{:d}" (no padding), else 1 to 9 with zero set:
 * space padding cannot appear in a name, so it is never accepted.
 */
struct naming {
	char	prefix[NAMING_LABEL_MAX + 1];
	char	suffix[NAMING_LABEL_MAX + 1];
	int	width;
	int	zero;
};

int		 naming_parse(const char *pattern, struct naming *out,
		    char *err, size_t errsz);
int		 naming_format(const struct naming *, long long index,
		    char *buf, size_t bufsz);
int		 naming_match(const struct naming *, const char *name,
		    long long *index);

/* ------------------------------------------------------------------ tmpl.c */

#define TMPL_NAME_MAX		64	/* longest <attribute> name */

/* The value of attribute name (borrowed), or NULL if there is none. */
typedef const char *(*tmpl_lookup)(const char *name, void *arg);

/* How values go in (tmpl_expand_as); 0: verbatim. */
#define TMPL_LINE_SAFE		0x01	/* refuse a control character */
#define TMPL_JSON		0x02	/* escape '"', '\\', controls as in a JSON string */
#define TMPL_REFUSED		(-2)	/* tmpl_expand_as: a value was refused */

int		 tmpl_expand(const char *tmpl, tmpl_lookup, void *arg,
		    size_t maxlen, char **out, char *err, size_t errsz);
int		 tmpl_expand_as(const char *tmpl, int how, tmpl_lookup,
		    void *arg, size_t maxlen, char **out, char *err,
		    size_t errsz);

/* ------------------------------------------------------------------ uri.c */

#define URI_MAX_LEN		2048

json_t		*uri_parse_power(const char *uri, char *err, size_t errsz);

/* ------------------------------------------------------------------ sel.c */

/* The node-selector language of dynamic groups. */
/* Bounds on a selector, both as written and in its normalized form. */
#define SEL_TEXT_MAX		4096	/* bytes */
#define SEL_DEPTH_MAX		32	/* nesting of parentheses and operators */
#define SEL_TERMS_MAX		256	/* a[..], h[..] and s[..] terms */

/* What sel_uses() returns: the node data a selector reads. */
#define SEL_USES_ATTRIBUTES	0x01u
#define SEL_USES_HARDWARE	0x02u
#define SEL_USES_STATUS		0x04u

struct sel;

/*
 * Parse a selector such as "h[ram_total] > 100GB".  Returns a new
 * selector to release with sel_free(), or NULL with err holding
 * "Bad selector at position N: why" (N 0-based, in bytes) and *pos set
 * to N.  pos and err may be NULL.
 */
struct sel	*sel_parse(const char *text, size_t *pos, char *err,
		    size_t errsz);

/*
 * The normalized form shown as a dyngroup's "parsed" field, e.g.
 * "(hardware[\"ram_total\"] > 100GB)".  New allocation; parsing it
 * again gives an equal selector.
 */
char		*sel_normalize(const struct sel *);

/*
 * 1 if a node with these attributes, hardware and status (JSON objects,
 * borrowed; NULL counts as empty) matches, else 0.  Allocates nothing.
 */
int		 sel_eval(const struct sel *, const json_t *attrs,
		    const json_t *hw, const json_t *status);

/* SEL_USES_* bits of what the selector reads, so callers load only that. */
unsigned int	 sel_uses(const struct sel *);

void		 sel_free(struct sel *);

/* ------------------------------------------------------------------ req.c, resp.c */

enum method { M_GET, M_POST, M_PUT, M_PATCH, M_DELETE, M_HEAD, M__MAX };

/* Who is asking, from a verified token; zeroed for public routes. */
struct ident {
	int		 authed;
	struct claims	 tok;
	int		 super;		/* fulladmin of the management tenant */
	int		 tenancy;	/* a tenancy token: tok.sub is the tenancy */
};

#define ROUTE_MAX_PARAMS	4

struct route;

/*
 * Everything of one request.  Freed by req_finish() when the response is
 * out, so handlers allocate onto it and never clean up by hand.
 */
struct req {
	void			*fcgx;		/* FCGX_Request *, opaque here */
	const struct conf	*conf;
	const struct authkey	*key;
	enum method		 method;
	const char		*path;		/* below /api/v1, no query */
	const char		*query;
	const char		*remote_addr;
	const char		*request_id;
	const char		*content_type;
	const char		*authorization;
	const char		*host;		/* the Host the client asked for */
	char			*body;		/* raw, NUL-terminated, or NULL */
	size_t			 bodylen;
	json_t			*json;		/* decoded body, or NULL */
	const struct route	*route;
	char			*params[ROUTE_MAX_PARAMS];	/* :captures */
	size_t			 nparams;
	struct ident		 who;
	struct ctx		 ctx;		/* the caller's scope; the reason */
	json_t			*data;		/* "data" of a success */
	int			 raw;		/* handler wrote its own output */
	size_t			 sent;		/* bytes of the answer's body */
	/*
	 * nginx brought the request here by X-Accel-Redirect (the waiter's
	 * hand-back), or normalized its path: the path it has is not the
	 * one the client sent.  A redirected request still carries the
	 * original's body, which a GET route ignores rather than refuses.
	 */
	int			 redirected;
	/*
	 * The blocking hooks of this request's change said yes: it came
	 * back through GET /_hookgate (api_hook.c), whose stored method,
	 * path and query these are.
	 */
	int			 gate_passed;
	char			*gate_path;
	char			*gate_query;
};

int		 req_init(void);
int		 req_listen(const char *path, int backlog);
int		 req_accept(struct req *, int fd, const sigset_t *stopsigs,
		    volatile sig_atomic_t *stop);	/* 0 ok, -1 stop */
void		 req_finish(struct req *);
enum apierr	 req_read_body(struct req *, size_t max);
const char	*req_param(const struct req *, const char *name);
const char	*req_id(const struct req *);
const char	*req_header(const struct req *, const char *cgi_name);
enum apierr	 req_base_url(struct req *, char *buf, size_t bufsz);
const char	*req_query(const struct req *, const char *key, char *buf, size_t bufsz);
enum apierr	 req_fail(struct req *, enum apierr, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
void		 resp_send(struct req *, enum apierr);
void		 resp_raw(struct req *, int status, const char *ctype,
		    const char *body, size_t len);
void		 resp_out(struct req *, struct outbuf *);
char		*resp_ok_text(const json_t *data);
void		 resp_redirect(struct req *, const char *uri);
void		 resp_redirect_file(struct req *, const char *uri,
		    const char *filename);
int		 resp_status(enum apierr);
enum apierr	 resp_code(int status);
void		 resp_not_modified(struct req *, const char *etag);

/* ------------------------------------------------------------------ route.c */

enum need {
	NEED_NONE,	/* public */
	NEED_REFRESH,	/* a refresh token and nothing else */
	NEED_READ,	/* any role */
	NEED_OPERATOR,
	NEED_CONFIG,
	NEED_FULL,
	NEED_SUPER,	/* fulladmin of the management tenant */
	NEED_HEAD,	/* a known head's address, or the superadministrator */
	NEED_TENANCY	/* a tenancy token and nothing else */
};

int		 req_allows(const struct req *, enum need);

typedef enum apierr (*handler_fn)(struct req *);

struct route {
	enum method		 method;
	const char		*pattern;	/* "/admin/:id/keys" */
	handler_fn		 handler;
	enum need		 need;
	const struct bodyspec	*body;		/* NULL: no body accepted */
	const struct objclass	*cls;		/* the class a generic handler serves */
	const void		*arg;		/* what else the handler is told */
};

enum apierr	 route_dispatch(struct req *);
const struct route *route_match(enum method, const char *path,
		    char **params, size_t *nparams, int *path_known);
size_t		 route_count(void);
const struct route *route_at(size_t);
const char	*route_need_name(enum need);
const char	*method_name(enum method);

/* ------------------------------------------------------------------ handlers */

/* api_obj.c: the standard routes of every class */
enum apierr	 api_obj_list(struct req *);
enum apierr	 api_obj_post(struct req *);
enum apierr	 api_obj_get(struct req *);
enum apierr	 api_obj_patch(struct req *);
enum apierr	 api_obj_put(struct req *);
enum apierr	 api_obj_delete(struct req *);
enum apierr	 api_obj_meta(struct req *);
enum apierr	 api_obj_search(struct req *);
enum apierr	 api_obj_field_get(struct req *);

/* A search endpoint's route argument: how to match, what to answer. */
struct search {
	match_fn	 match;
};

/* api_auth.c */
extern const struct bodyspec b_login, b_admin_newtoken;
enum apierr	 api_login(struct req *);
enum apierr	 api_newtoken(struct req *);
enum apierr	 api_admin_newtoken(struct req *);
enum apierr	 api_whoami(struct req *);

/* class_admin.c */
/* How the keys endpoints combine the stored list with the sent one. */
enum keyop { KEYS_ADD, KEYS_SET, KEYS_REMOVE };
extern const struct objclass admin_class;
extern const struct bodyspec b_keys, b_gui;
enum apierr	 api_admin_keys(struct req *);
enum apierr	 api_admin_gui(struct req *);
int		 admin_bootstrap(struct db *, const struct conf *, const char *name);
enum apierr	 admin_token_current(struct ctx *, struct claims *);
unsigned int	 admin_roles(const json_t *doc);

/* attrs.c */
enum apierr	 api_attrs_get(struct req *);
enum apierr	 api_attrs_edit(struct req *);

/* class_*.c: the classes */
extern const struct objclass attrib_class, image_class, bootconfig_class,
		    distro_class, repo_class, gitrepo_class, net_class,
		    hostname_class, dyngroup_class, namingpool_class, node_class,
		    head_class;
extern const struct search nets_byname, nets_byip, nets_bykey, nets_byiface,
		    hostnames_bypart;
/* any JSON body; the handler checks it */
extern const struct bodyspec b_any, b_putstatus, b_putstatus_uid;
enum apierr	 api_bootconfig_errors(struct req *);
enum apierr	 api_bootconfigs_errors(struct req *);
enum apierr	 api_gitrepo_url(struct req *);
enum apierr	 api_dyngroup_nodes(struct req *);
enum apierr	 sel_nodes(struct ctx *, long long tenant, const struct sel *,
		    json_t **uids);
enum apierr	 api_namingpools_info(struct req *);
enum apierr	 api_namingpool_push(struct req *);

/* api_node.c */
enum apierr	 api_node_attrs_get(struct req *);
enum apierr	 api_node_groups(struct req *);
enum apierr	 api_node_status_get(struct req *);
enum apierr	 api_node_putstatus_post(struct req *);
enum apierr	 api_node_putstatus_put(struct req *);
enum apierr	 api_node_putattribs_post(struct req *);
enum apierr	 api_node_putattribs_put(struct req *);
enum apierr	 api_node_power_uri(struct req *);
/* api_boot.c */
enum apierr	 api_boot_ipxe(struct req *);
enum apierr	 node_template(struct ctx *, const struct objrow *,
		    const char *tmpl, const char *what, size_t maxlen, int clear,
		    int how, char **out);
enum apierr	 node_power_uri(struct ctx *, const struct objrow *, int clear,
		    char **uri, json_t **parsed);
enum apierr	 api_whereami(struct req *);
long long	 public_tenant(struct req *, enum apierr *);
enum apierr	 node_by_source(struct req *, struct objrow *);
long long	 source_tenant(struct req *);
int		 head_at_addr(struct ctx *, const char *addr);

/* api_boottmpl.c: kickstart, ZTP, ignition and install endpoints */
extern const struct bodyspec b_install_password;
enum apierr	 api_bootconfig_kickstart(struct req *);
enum apierr	 api_kickstart_get(struct req *);
enum apierr	 api_ztp_script(struct req *);
enum apierr	 api_ignition_get(struct req *);
enum apierr	 api_ignition_bin(struct req *);
enum apierr	 api_install_installer(struct req *);
enum apierr	 api_install_download(struct req *);
enum apierr	 api_install_repo(struct req *);
enum apierr	 api_install_password(struct req *);
enum apierr	 api_install_head(struct req *);

/* api_tenant.c */
extern const struct objclass tenant_class;
extern const struct bodyspec b_tenancy_newtoken, b_tenancy_revoke, b_mac_list;
extern const struct jobkind job_tenant;
extern const struct runkind run_tenant;
enum apierr	 api_tenants_list(struct req *);
enum apierr	 api_tenant_post(struct req *);
enum apierr	 api_tenant_get(struct req *);
enum apierr	 api_tenant_change(struct req *);
enum apierr	 api_tenant_delete(struct req *);
enum apierr	 api_tenant_credentials(struct req *);
enum apierr	 api_tenancies_list(struct req *);
enum apierr	 api_tenancy_get(struct req *);
enum apierr	 api_tenancy_nodes(struct req *);
enum apierr	 api_tenancy_teardown(struct req *);
enum apierr	 api_tenancy_newtoken(struct req *);
enum apierr	 api_tenancy_tokens(struct req *);
enum apierr	 api_tenancy_tokens_revoke(struct req *);
enum apierr	 api_tenancy_members(struct req *);
enum apierr	 api_tenancy_power(struct req *);
void		 tenant_notify_id(struct req *, long long tid, const char *event);

/* api_cluster.c */
enum apierr	 api_cluster_get(struct req *);
enum apierr	 api_cluster_patch(struct req *);
enum apierr	 api_cluster_time(struct req *);
enum apierr	 api_cluster_database(struct req *);
enum apierr	 api_cluster_summary(struct req *);
enum apierr	 api_cluster_hosts(struct req *);
enum apierr	 api_cluster_sshkeys(struct req *);
enum apierr	 api_cluster_cabundle(struct req *);
enum apierr	 api_cluster_license(struct req *);
enum apierr	 api_cluster_head(struct req *);
enum apierr	 api_cluster_rekey(struct req *);

/* api_job.c api_power.c */
extern const struct bodyspec b_job, b_power, b_exec, b_bulk_power, b_bulk_exec;

/*
 * The longest any request may wait for a job, in seconds; nginx's
 * proxy_read_timeout for /_jobwait/ (3660 s) is above it.
 */
#define JOB_WAIT_MAX	3600

/* What job_queue() inserts. */
struct jobspec {
	const struct jobkind	*kind;
	const json_t		*params;
	const char		*target;	/* shown: the node's name */
	const char		*node_uid;	/* the node it acts on, or NULL */
	long long		 batch;		/* batch id, or 0 */
	const char		*bmc_host;	/* for [power] per_bmc, or NULL */
	const char		*head;		/* only this head runs it, or NULL */
	double			 not_before;	/* epoch s, or 0 */
	double			 expires_at;	/* cancelled if still queued then; 0 never */
};

enum apierr	 job_queue(struct req *, const struct jobspec *,
		    char uid[UID_LEN + 1]);
enum apierr	 job_insert(struct ctx *, long long tid, const char *who,
		    const struct jobspec *, char uid[UID_LEN + 1]);
enum apierr	 job_wait(struct req *, const char *uid, long long secs,
		    int result);
int		 req_async(const struct req *);
enum apierr	 job_answer(struct req *, struct jobspec *, long long wait,
		    int async_ok);
enum apierr	 job_here(struct req *, const struct jobkind *,
		    const json_t *params, const char *target, long long wait,
		    int async_ok);
enum apierr	 upload_job(struct req *, const struct jobkind *,
		    json_t *params, const char *target, long long wait_min,
		    long long passes);
enum apierr	 batch_find(struct req *, const char *id, long long *bid,
		    json_t **out);
int		 job_state_ended(const char *state);
enum apierr	 api_job_post(struct req *);
enum apierr	 api_job_get(struct req *);
enum apierr	 api_job_result(struct req *);
enum apierr	 api_job_delete(struct req *);
enum apierr	 api_jobs_list(struct req *);
enum apierr	 api_jobs_stats(struct req *);
enum apierr	 api_node_power_get(struct req *);
enum apierr	 api_node_power_put(struct req *);
enum apierr	 api_node_exec(struct req *);
enum apierr	 api_node_hostkey_delete(struct req *);
enum apierr	 api_nodes_bulk(struct req *);
enum apierr	 api_batch_get(struct req *);
enum apierr	 api_batch_output(struct req *);
void		 jobd_wake(const struct conf *);

/* ------------------------------------------------------------------ worker.c */

/* A worker's exit status when it cannot start; the master backs off. */
#define WORKER_START_FAILED	2

int		 worker_main(const struct conf *, int listenfd, int max_requests);

/* ------------------------------------------------------------------ job*.c */

/*
 * A job kind as the API sees it: its name and the check of its
 * parameters before a job row exists (the API's 400).  No runner code:
 * corral-api links this, and must link no BMC, ssh or curl code.
 * Kinds that are not generic are queued only by their own endpoints
 * (power, exec), which check the caller may act on the node.
 */
struct jobkind {
	const char	*name;
	int		 generic;	/* POST /jobs may queue it */
	int		 (*check)(const json_t *params, char *why, size_t whysz);
};

extern const struct jobkind job_noop, job_power, job_exec, job_ingest;
const struct jobkind *jobkind_find(const char *name);
int		 noop_params(const json_t *, char *why, size_t whysz,
		    double *sleep, int *fail);

/* Power job parameters: "op", "force", "steps" (see job.c). */
#define POWER_STEPS_MAX	8
enum power_step { STEP_SSH, STEP_SOFT, STEP_HARD };
struct power_plan {
	const char	*op;		/* on, off, cycle, reset, soft, status */
	size_t		 nsteps;	/* off only */
	enum power_step	 step[POWER_STEPS_MAX];
	int		 wait[POWER_STEPS_MAX];	/* s to wait for "off" after it */
};
int		 power_plan_parse(const json_t *params, const struct conf *,
		    struct power_plan *, char *why, size_t whysz);

/* ------------------------------------------------------ jobd.c run*.c */

/* One job being run by its runner (run.c). */
struct jobrun {
	const struct conf	*conf;
	struct ctx		 ctx;		/* database; scope over all */
	long long		 id;
	const char		*claimed_by;	/* the lease holder */
	char			*uid;
	long long		 tenant;
	char			*kind;
	char			*target;
	char			*node;		/* node UID, or NULL */
	json_t			*params;
	void			*priv;		/* the kind's, between steps */
	int			 fail_status;	/* a refusal's HTTP status, or 0 */
	long long		 attempts;	/* this run included */
	double			 retry_at;	/* failed: queue again then (epoch s), or 0 */
};

/*
 * A kind as corral-jobd runs it.  prepare (may be NULL) and record (may
 * be NULL) use the database; run does the slow part without it, and
 * returns the result (new reference) or NULL with err set.  record sees
 * the result (NULL when run failed, err then says why).  cleanup (may be
 * NULL) runs once the result is written (waiters have their answer): it
 * frees priv, and may do with the database what nobody waits for.
 */
struct runkind {
	const char	*name;
	int		 (*prepare)(struct jobrun *, char *err, size_t errsz);
	json_t		*(*run)(struct jobrun *, char *err, size_t errsz);
	void		 (*record)(struct jobrun *, const json_t *result,
			    const char *err);
	void		 (*cleanup)(struct jobrun *);
};

extern const struct runkind run_noop, run_power, run_exec, run_ingest;

void		 runner_main(const struct conf *, long long id,
		    const char *claimed_by) __attribute__((noreturn));
void		 jobd_wake_waiters(const struct conf *);
int		 jobwait_main(const struct conf *);

/* ---------------------------------------------------------------- fstore.c */

/*
 * The artifact store: kernels, initramfs, image contents and ISOs as
 * files under [files] dir, named by their SHA-256 and stored once:
 *   <dir>/sha256/<first 2 hex>/<64 hex>   stored files (read-only)
 *   <dir>/staging/                        uploads and job outputs being
 *                                         hashed (same filesystem, so a
 *                                         stored file appears in one rename)
 *   <dir>/tmp/                            nginx's upload temp files
 * The database says which object's slot uses which file (sql/0007).
 */
#define SHA256_HEX	64
#define SHA1_HEX	40

struct fileinfo {
	char		 sha256[SHA256_HEX + 1];
	char		 sha1[SHA1_HEX + 1];
	long long	 size;
	double		 mtime;		/* when this use was stored */
	char		 fmt[16];	/* cwsquash, tar, iso9660, raw */
	char		 uid[UID_LEN + 1];	/* this use's filename/uid */
	long long	 refcnt;	/* uses of the file, all tenants */
};

/* What a client said the file must hash to (empty strings: nothing). */
struct fileexpect {
	char		 sha256[SHA256_HEX + 1];
	char		 md5[33];
};

const struct objclass *fstore_slot_class(const char *slot);
int		 valid_sha256(const char *);
void		 fstore_path(const struct conf *, const char *sha256,
		    char *buf, size_t bufsz);
int		 fstore_staging_open(const struct conf *, char *path,
		    size_t pathsz);
int		 fstore_stage_upload(const struct conf *, const char *body,
		    char name[UID_LEN + 1]);
json_t		*fileinfo_json(const char *slot, const struct fileinfo *);
enum apierr	 fstore_ref_get(struct ctx *, const char *obj_uid,
		    const char *slot, struct fileinfo *);
int		 fstore_ingest(struct ctx *, const char *staged,
		    const char *obj_uid, const char *slot,
		    const struct fileexpect *, struct fileinfo *,
		    char replaced[SHA256_HEX + 1], char *err, size_t errsz);
enum apierr	 fstore_ref_drop(struct ctx *, const char *obj_uid,
		    const char *slot);
int		 fstore_release(struct ctx *, const char *sha256);
json_t		*fstore_uses(struct ctx *, const char *uid);
void		 fstore_release_all(struct ctx *, json_t *uses);
enum apierr	 fstore_unused(struct ctx *, int remove, json_t **out);
enum apierr	 fstore_check(struct ctx *, int rehash, json_t **out);
const char	*fstore_slot_problem(struct ctx *, const char *obj_uid,
		    const char *slot, char *buf, size_t bufsz);

/* ------------------------------------------------------------------ boot.c */

/* The stages of a network boot, in order (sql/0009-boot.sql). */
enum bootstage {
	BOOT_DHCP, BOOT_SCRIPT, BOOT_KERNEL, BOOT_INITRAMFS, BOOT_STATUS,
	BOOT__MAX
};

/* The last path component of the signed kernel and initramfs links. */
#define BOOT_KERNEL_NAME	"vmlinuz"
#define BOOT_INITRD_NAME	"initrd.img"

int		 boot_stage_parse(const char *);
const char	*boot_stage_name(int);
int		 boot_advance(int cur, double cur_at, json_t *stages, int ev,
		    double at, int *changed);
enum apierr	 boot_record(struct ctx *, const char *uid, int stage,
		    double at);
enum apierr	 boot_status_add(struct ctx *, const char *uid, json_t *st);
int		 boot_event_parse(const char *line, int *stage, char mac[18]);
void		 boot_event(struct db *, const struct conf *, const char *line);

/* bootev.c (corral-jobd only): the boot event socket's reader */
struct bootev;
struct bootev	*bootev_start(int fd);
int		 bootev_pollfd(const struct bootev *);
void		 bootev_drain(struct bootev *, struct db *, const struct conf *);
int		 bootev_send(const struct conf *, int argc, char *argv[]);

/* multipart.c */
int		 multipart_file(const char *body, size_t len,
		    const char *boundary, size_t *start, size_t *flen,
		    char *err, size_t errsz);

/* repotree.c: repos' ISO trees served over HTTP */
int		 repotree_publish(const struct conf *, const char *uid,
		    const char *name, const char *iso, char *err, size_t errsz);
void		 repotree_unpublish(const struct conf *, const char *uid,
		    const char *name);
void		 repotree_empty_trash(const struct conf *);

/* api_export.c job_export.c run_export.c: a boot config as one archive */
extern const struct jobkind job_export, job_import;
extern const struct runkind run_export, run_import;
enum apierr	 api_bootconfig_export(struct req *);
enum apierr	 api_bootconfigs_import(struct req *);
enum apierr	 export_result(struct req *, const char *job_uid,
		    const json_t *result);

/* api_files.c */
enum apierr	 api_file_put(struct req *);
enum apierr	 api_file_get(struct req *);
enum apierr	 api_file_delete(struct req *);
enum apierr	 api_file_stat(struct req *);
enum apierr	 api_files_unused(struct req *);

/* ----------------------------------------------------------- ssh.c (jobd) */
enum ssh_stderr { SSH_STDERR_MERGE, SSH_STDERR_DISCARD };

struct ssh_target {
	const char	*host;		/* address to connect to */
	int		 port;		/* 0: 22 */
	const char	*user;
	const char	*alias;		/* HostKeyAlias: the node's UID */
	const char	*known;		/* known_hosts line(s) for alias, or NULL */
};

struct ssh_opts {
	const char	*key;		/* private key file (ed25519) */
	int		 connect_timeout;	/* s */
	double		 time_limit;	/* s the command may run; 0 none */
	long long	 max_output;	/* bytes written to out_fd; 0 none */
	enum ssh_stderr	 stderr_mode;
};

struct ssh_result {
	int		 exit_status;	/* the command's; -1 if it has none */
	long long	 out_bytes;
	int		 timed_out;	/* time_limit ended it */
	int		 truncated;	/* max_output ended it */
	char		*learned;	/* host key line learned now (malloc'd), or NULL */
};

/*
 * Run cmd on the target, feeding stdin (may be NULL/0) and writing its
 * output to out_fd.  Returns 0 when the command ran (whatever its exit
 * status, timed_out, truncated), -1 with a clear reason in err when it
 * could not run (unreachable, auth refused, host key changed…).
 */
int	 ssh_exec(const struct ssh_target *, const struct ssh_opts *, const char *cmd, const char *in, size_t inlen, int out_fd, struct ssh_result *, char *err, size_t errsz);
void	 ssh_result_free(struct ssh_result *);
/* Make an ed25519 key pair at path (+ ".pub") unless it exists (ssh-keygen). 0 or -1 with err. */
int	 ssh_key_ensure(const char *path, char *err, size_t errsz);

/* ------------------------------------------------- ipmi.c redfish.c (jobd) */
enum power_op	 { POWER_STAT, POWER_ON, POWER_OFF, POWER_CYCLE, POWER_RESET, POWER_SOFT };
enum power_state { POWER_UNKNOWN, POWER_IS_ON, POWER_IS_OFF };

/* One BMC, as parsed from a node's expanded power_uri.  Borrowed strings. */
struct bmc {
	const char	*scheme;	/* "ipmi", "redfish" or "redfish+http" */
	const char	*host;		/* name or address, no port */
	int		 port;		/* 0: the scheme's default (623, 443, 80) */
	const char	*user;
	const char	*pass;
	const char	*path;		/* redfish: a system's path, or NULL to find it */
};

/* How to talk to BMCs: from corral.conf [power]. */
struct power_opts {
	int		 timeout_ms;	/* whole operation, per BMC */
	int		 retries;
	int		 ipmi_version;	/* 15 or 20 */
	int		 ipmi_cipher;	/* cipher suite id; 0 is refused */
	const char	*ipmi_priv;	/* "user", "operator" (default) or "admin" */
	const char	*ipmi_workarounds; /* freeipmi names, e.g. "opensesspriv", space separated, or NULL */
	const char	*ca_bundle;	/* redfish: CA file, NULL = system store */
	int		 tls_verify;	/* redfish: 0 only when configured off */
};

/*
 * Do op on the BMC; for POWER_STAT (and after other ops where the BMC tells) set
 * *state.  Returns 0, or -1 with a clear, password-free reason in err
 * ("127.0.1.3: authentication failed (wrong user name or password)",
 * "127.0.1.9: no answer within 3.0 s", "…: certificate not trusted"…).
 */
int	 ipmi_power(const struct bmc *, const struct power_opts *, enum power_op, enum power_state *, char *err, size_t errsz);
int	 redfish_power(const struct bmc *, const struct power_opts *, enum power_op, enum power_state *, char *err, size_t errsz);
/* Whether the workaround names are known (ipmi.c), for start-up checks. */
int	 ipmi_opts_check(const struct power_opts *, char *err, size_t errsz);

/* ----------------------------------------------------------- http.c (jobd) */

#define HTTP_BODY_MAX		(1024 * 1024)	/* default cap of an answer */

struct sockaddr;

/*
 * Whether the address about to be connected to may be: 1 yes, 0 no with
 * a reason in why.  Called for every address, after name resolution.
 */
typedef int	(*http_addr_fn)(const struct sockaddr *, unsigned int len,
		    void *arg, char *why, size_t whysz);

/* How one handle talks.  Strings are borrowed. */
struct http_opts {
	const char		*protocols;	/* "https", "http,https"; NULL: https */
	const char *const	*headers;	/* "Name: value", NULL-ended, or NULL */
	const char		*user, *pass;	/* basic auth, or NULL */
	int			 tls_verify;	/* peer and name checked */
	const char		*ca_bundle;	/* NULL: the system's store */
	const char		*user_agent;	/* NULL: corral-jobd */
	size_t			 max_body;	/* 0: HTTP_BODY_MAX */
	http_addr_fn		 addr_ok;	/* NULL: any address */
	void			*addr_arg;
};

/* Why a request got no answer. */
enum http_fail {
	HTTP_OK, HTTP_TIMEOUT, HTTP_RESOLVE, HTTP_REFUSED, HTTP_UNREACHABLE,
	HTTP_CONNECT, HTTP_BLOCKED, HTTP_CERT, HTTP_CAFILE, HTTP_TLS,
	HTTP_CLOSED, HTTP_TOOBIG, HTTP_OTHER
};

struct http_resp {
	long		 status;	/* the HTTP status of an answer */
	char		*body;		/* NUL-ended, or NULL */
	size_t		 bodylen;
	int		 toobig;
	enum http_fail	 fail;		/* when there was no answer */
	char		 detail[256];	/* printable: libcurl's words, or the check's */
};

struct http;
struct http	*http_open(const struct http_opts *, char *why, size_t whysz);
void		 http_close(struct http *);
int		 http_request(struct http *, const char *method, const char *url,
		    const char *body, size_t len, long timeout_ms,
		    struct http_resp *);
void		 http_resp_free(struct http_resp *);
void		 http_text_clean(char *dst, size_t dstsz, const char *s,
		    size_t max);

/* A node as ssh reaches it (run.c); t points into the strings beside it. */
struct node_ssh {
	struct ssh_target	 t;
	char			*ip;
	char			*alias;
	char			*hostkey;
};
int		 node_ssh_load(struct jobrun *, const struct objrow *,
		    struct node_ssh *, char *err, size_t errsz);
void		 node_ssh_free(struct node_ssh *);

/* ------------------------------------- api_git.c job_git.c run_git.c git.c */

/*
 * Hosted git repositories (reference: "Git Repository Objects"): a bare
 * repository per gitrepo on each head, at [git] dir/<tenant id>/<UID>.git
 * (renames never move it; two tenants' repositories never meet), made and
 * changed only by corral-jobd through git(1) (git.c, jobd only).  nginx
 * serves clones and pushes (git-http-backend under fcgiwrap) after asking
 * GET /_gitauth.  Reading a file is a gitread job, syncing a gitsync job.
 */
extern const struct bodyspec b_gitsync, b_gitbranches, b_gitbranches_del;
enum apierr	 api_gitrepo_file(struct req *);
enum apierr	 api_gitrepo_sync(struct req *);
enum apierr	 api_gitrepo_branches(struct req *);
enum apierr	 api_gitrepo_branches_del(struct req *);
enum apierr	 api_gitread_result(struct req *);
enum apierr	 api_gitauth(struct req *);
enum apierr	 req_auth_optional(struct req *);
void		 resp_headers(struct req *, int status, const char *headers);
void		 git_repo_path(const struct conf *, long long tenant,
		    const char *uid, char *buf, size_t bufsz);
long long	 git_period(const json_t *sync_period);	/* s; 0: none */
int		 git_path_ok(const char *path);

#define JOB_WAIT_GITREAD	2	/* job_wait's result: to /gitread/<uid> */
#define JOB_WAIT_HOOKGATE	3	/* job_wait's result: to /_hookgate/<uid> */

extern const struct jobkind job_gitsync, job_gitread;
extern const struct runkind run_gitsync, run_gitread;
void		 gitsched_pass(struct db *, const struct conf *);

/* git.c (corral-jobd only): every git(1) command corral runs. */
int	 git_init(const struct conf *, const char *repo, char *err, size_t errsz);
int	 git_remove(const char *repo, char *err, size_t errsz);
int	 git_branches(const struct conf *, const char *repo, json_t **out,
	    char *def, size_t defsz, char *err, size_t errsz);
int	 git_read(const struct conf *, const char *repo, const char *path,
	    int *kind, char **data, size_t *len, char *err, size_t errsz);
int	 git_remote_heads(const struct conf *, const char *repo,
	    const char *url, json_t **out, char *def, size_t defsz, char *err,
	    size_t errsz);
int	 git_fetch(const struct conf *, const char *repo, const char *url,
	    const char *remote, const char *ref, int force, char *err,
	    size_t errsz);
int	 git_rev(const struct conf *, const char *repo, const char *ref,
	    char sha[SHA1_HEX + 1]);
int	 git_is_ancestor(const struct conf *, const char *repo, const char *a,
	    const char *b);
int	 git_update_ref(const struct conf *, const char *repo, const char *ref,
	    const char *sha, const char *old, char *err, size_t errsz);
int	 git_delete_ref(const struct conf *, const char *repo, const char *ref,
	    char *err, size_t errsz);
int	 git_set_default(const struct conf *, const char *repo,
	    const char *branch, char *err, size_t errsz);
int	 git_rebase(const struct conf *, const char *repo, const char *branch,
	    const char *onto, char *err, size_t errsz);
void	 git_server_info(const struct conf *, const char *repo);
/* ------------------------------------- job_image.c api_image.c run_mkiso.c
 *                                       run_capture.c tool.c: ISO and capture */
#define CAPTURE_EXCLUDE_MAX	256	/* paths in one capture's exclude list */
#define CAPTURE_PATH_MAX	1024	/* bytes of one excluded path */

extern const struct jobkind job_mkiso, job_capture;
extern const struct bodyspec b_mkiso, b_capture;
int		 capture_compress_ok(const char *);
int		 capture_exclude_check(const json_t *, char *why, size_t whysz);
enum apierr	 api_bootconfig_mkiso(struct req *);
enum apierr	 api_image_capture(struct req *);
enum apierr	 mkiso_result(struct req *, const char *job_uid,
		    const char *target);
extern const struct runkind run_mkiso, run_capture;
int		 tool_spawn_fds(char *const argv[], const int fds[3], pid_t *);
int		 tool_spawn(char *const argv[], int in, int out,
		    const char *errpath, pid_t *pid, char *err, size_t errsz);
int		 tool_wait(pid_t, long long deadline_ms, const char *what,
		    const char *errpath, char *err, size_t errsz);

/* ------------------------------------- api_hook.c hook.c run_hook.c: webhooks */

extern const struct objclass tenanthook_class;
extern const struct jobkind job_hook, job_hookgate;
extern const struct runkind run_hook, run_hookgate;
int		 hook_cidrs_ok(const char *list);
int		 hook_addr_allowed(const char *addr, const char *allow,
		    const char *deny, char *why, size_t whysz);
enum apierr	 hooks_check(struct ctx *, json_t *hooks,
		    const json_t *stored_hooks, const char *tenant_uid);
json_t		*hooks_render(const json_t *stored);
char		*hook_body(const char *event, const json_t *tenant);
enum apierr	 hook_notify(struct ctx *, long long tenant_id,
		    const char *tenant_uid, const json_t *tenant_hooks,
		    const char *event, const json_t *payload);
enum apierr	 hook_gate(struct req *, const char *tenant_uid,
		    const json_t *tenant_hooks, const char *event,
		    const json_t *payload, int *passed);
enum apierr	 api_hookgate_result(struct req *);
enum apierr	 api_hooktest(struct req *);
void		 hook_params_mask(json_t *params);

/* hook.c (corral-jobd only): one delivery. */
struct hook_call {
	const char	*url;
	const char	*id;		/* webhook-id: the same on every retry */
	const char	*body;		/* JSON text */
	const char	*secret;	/* clear, or NULL: unsigned */
	int		 timeout;	/* s */
};
int		 hook_deliver(const struct conf *, const struct hook_call *,
		    long *status, char *why, size_t whysz);
/* ---------------------------------------------------- audit.c api_audit.c */

int		 audit_wanted(enum method, const char *pattern);
void		 audit_request(struct req *, enum apierr);
void		 audit_event(struct ctx *, const char *actor, long long tenant,
		    const char *what, const char *object, int status,
		    const char *detail);
enum apierr	 api_audit_list(struct req *);

/* ------------------------------------------------------------------ dhcp.c */

/* The files corral-jobd writes for dnsmasq, in [boot] dnsmasq_dir. */
enum dhcp_file {
	DHCP_CONF,		/* dnsmasq.conf: read at dnsmasq's start */
	DHCP_HOSTS,		/* dhcp-hostsfile: re-read on SIGHUP */
	DHCP_OPTS,		/* dhcp-optsfile: re-read on SIGHUP */
	DHCP_ADDN,		/* addn-hosts: re-read on SIGHUP */
	DHCP_SCRIPT,		/* dhcp-event: run per lease event */
	DHCP_FILE__MAX
};

#define DHCP_CHANGED_CONF	1	/* dnsmasq must restart */
#define DHCP_CHANGED_HOSTS	2	/* a SIGHUP re-reads them */

/* The head on the boot network, as the files name it. */
struct dhcp_site {
	char		 address[IP_STR_MAX];	/* IPv4 on [boot] interface */
	int		 prefix;		/* its subnet's bits; 0 unknown */
	char		 url[2048];		/* [boot] url or http://<address> */
	int		 run_as_root;		/* user=root: the dir is closed */
	const char	*jobd_path;		/* the dhcp-script runs it */
	const char	*conf_path;
};

/* The rows the files are made of: arrays of documents with uid and name. */
struct dhcp_rows {
	json_t		*nets, *nodes, *hosts;
};

struct dhcp_out {
	char		*text[DHCP_FILE__MAX];	/* bodies, without the header */
	size_t		 skipped;		/* rows left out (logged) */
};

/* What jobd keeps between polls. */
struct dhcp_state {
	char		 fp[128];		/* the last fingerprint seen */
	int		 have_fp, pending;
	int		 ready;			/* dnsmasq.conf exists */
	double		 first_change, next_poll;
	long long	 generation;
	char		 last_err[256];		/* logged once */
	char		 conf_path[4096], jobd_path[4096];
};

void		 dhcp_render(const struct conf *, const struct dhcp_site *,
		    const struct dhcp_rows *, struct dhcp_out *);
void		 dhcp_out_free(struct dhcp_out *);
void		 dhcp_rows_free(struct dhcp_rows *);
int		 dhcp_init(struct dhcp_state *, const struct conf *,
		    const char *conf_path);
int		 dhcp_poll(struct dhcp_state *, struct db *, const struct conf *);
int		 dhcp_next_ms(const struct dhcp_state *);
void		 dhcp_dnsmasq_argv(const struct conf *, const char *argv[4], char *arg,
		    size_t argsz);
void		 dhcp_signal_external(const struct conf *, int changed);
int		 dhcp_enabled(const struct conf *);

/* ------------------------------------------------------------------ cache.c */

enum cachehit {
	CACHE_HIT,
	CACHE_MISS,	/* read MariaDB, then store what it said */
	CACHE_BYPASS	/* the cache is stale or off: read MariaDB only */
};

/* Taken by a lookup that missed: whether, and as of when, to store. */
struct cachefill {
	uint64_t	 epoch;
	int		 ok;
};

/* A cached answer, valid until cache_view_end(). */
struct cacheview {
	const char	*data;
	size_t		 len;
};

/* One row of the change feed: what a write touched. */
struct change {
	char		 cls[33];
	long long	 tid;
	char		 uid[UID_LEN + 1];
	char		 name[254];
};

int		 cache_reset(const struct conf *);
void		 cache_open(const struct conf *);
void		 cache_close(void);
enum cachehit	 cache_obj_get(const char *cls, const char *field, long long tid,
		    const char *value, struct objrow *, char **doc,
		    struct cachefill *);
void		 cache_obj_store(const struct cachefill *, const char *cls,
		    const char *field, long long tid, const char *value,
		    const struct objrow *, const char *doc);
enum cachehit	 cache_list_get(const char *cls, long long tid,
		    const char *variant, struct cacheview *, struct cachefill *);
void		 cache_list_store(const struct cachefill *, const char *cls,
		    long long tid, const char *variant, const char *body,
		    size_t len);
void		 cache_view_end(struct cacheview *);
/* resp.c: a cached list answer sent from the cache's pages */
int		 resp_cached_list(struct req *, const char *cls, long long tid,
		    const char *variant, struct cachefill *);
enum cachehit	 cache_tenant_get(long long tid, char *state, size_t sz,
		    struct cachefill *);
void		 cache_tenant_store(const struct cachefill *, long long tid,
		    const char *state);
int		 cache_invalidate(const struct change *, size_t n);
int		 cache_clear(void);
int		 cache_mark_fresh(long long poll_ms);

/* ------------------------------------------------------------------ follow.c */

int		 follow_main(const struct conf *);
int		 follow_own_writes(struct db *);

#endif /* CORRAL_EXTERN_H */
