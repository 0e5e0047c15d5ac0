/*
 * Running export and import jobs (api_export.c queues them): a boot
 * config, its image and their files as one tar archive, and back.
 *
 * The archive is POSIX tar (ustar; a pax extended header carries the
 * size of a member of 8 GiB or more), members in this order:
 *   manifest.json          what the archive holds (below)
 *   bootconfig/kernel      the files, those the objects have, in the
 *   bootconfig/initramfs   manifest's order
 *   image/content
 * The manifest: {"format": "corral-bootconfig-export", "version": 1,
 * "exported_at", "exported_from" (head), "exported_by", "bootconfig":
 * {fields}, "image": {fields} (null without an image), "files":
 * [{"slot", "object", "member", "sha256", "sha1", "size", "fmt"}]}.  The
 * fields are what POST /bootconfigs and /images take: no uid, no
 * bookkeeping, no file slots; a reference (the boot config's image and
 * repo, the image's parent and distro) by the name of what it names.
 *
 * File bytes are copied by the kernel (copy_file_range, sendfile where
 * the two files are on filesystems it cannot copy between), never
 * through this process; only the manifest and the tar headers are
 * written from here.  Export writes [jobd] spool/<job UID> (under a
 * .part name until complete), which nginx sends and the spool cleanup
 * removes.  Import copies each member into the store's staging
 * directory, checks its SHA-256 and SHA-1 against the manifest before
 * anything is created, then creates the objects and stores the files
 * (fstore_ingest) through the object engine in the caller's tenant; if
 * a step fails, what was created is deleted again.
 */
#define _GNU_SOURCE	/* copy_file_range(2) */
#include <sys/sendfile.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

#define TAR_BLOCK		512
#define USTAR_SIZE_MAX		077777777777LL	/* 11 octal digits */
#define PAX_MAX			(64 * 1024)	/* bytes of an extended header */
#define MANIFEST_NAME		"manifest.json"
#define MANIFEST_MAX		(1 << 20)
#define EXPORT_FORMAT		"corral-bootconfig-export"
#define EXPORT_VERSION		1
#define PORT_FILES		3

/* The files an archive may hold: a slot of the boot config or its image. */
static const struct {
	const char	*slot;
	const char	*object;	/* "bootconfig" or "image" */
	const char	*member;
} port_files[PORT_FILES] = {
	{ "kernel",	"bootconfig",	"bootconfig/kernel" },
	{ "initramfs",	"bootconfig",	"bootconfig/initramfs" },
	{ "content",	"image",	"image/content" },
};

/*
 * Fail the job with a reason; a refusal of the caller's input (400, 404,
 * 409, 507) keeps its status for the caller, anything else is the
 * head's (502).  Returns NULL, for run().
 */
static json_t *
port_fail(struct jobrun *jr, int status, char *err, size_t errsz,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	if (status >= 400 && status != 500)
		jr->fail_status = status;
	return NULL;
}

/* ------------------------------------------------------------ tar */

/* Zeros up to the next block boundary after a member of size bytes. */
static int
tar_pad(int fd, long long size)
{
	static const char	 zero[TAR_BLOCK];
	size_t			 rem = (size_t)(size % TAR_BLOCK);

	return rem == 0 ? 0 : write_all(fd, zero, TAR_BLOCK - rem);
}

/* Fill a ustar header h for a member name (< 100 bytes) of type. */
static void
tar_header(char h[TAR_BLOCK], const char *name, long long size, long long
    mtime, char type)
{
	unsigned int	 sum = 0;
	size_t		 i;

	memset(h, 0, TAR_BLOCK);
	snprintf(h, 100, "%s", name);
	snprintf(h + 100, 8, "%07o", 0444);
	snprintf(h + 108, 8, "%07o", 0);
	snprintf(h + 116, 8, "%07o", 0);
	/* Too large for the field: the pax header before this one says. */
	snprintf(h + 124, 12, "%011llo", size <= USTAR_SIZE_MAX ? size : 0);
	snprintf(h + 136, 12, "%011llo", mtime & USTAR_SIZE_MAX);
	h[156] = type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	snprintf(h + 265, 32, "corral");
	snprintf(h + 297, 32, "corral");
	memset(h + 148, ' ', 8);
	for (i = 0; i < TAR_BLOCK; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

/*
 * Write the header of member name holding size bytes, preceded by a pax
 * extended header when the size does not fit ustar's field.
 */
static int
tar_member(int fd, const char *name, long long size, long long mtime)
{
	char	 h[TAR_BLOCK], rec[64], pax[100];
	int	 len, digits;

	if (size > USTAR_SIZE_MAX) {
		/* A record is "<length> size=<n>\n", its length counting itself. */
		len = snprintf(rec, sizeof(rec), " size=%lld\n", size);
		for (digits = 1; snprintf(NULL, 0, "%d", len + digits) !=
		    digits; digits++)
			;
		len = snprintf(rec, sizeof(rec), "%d size=%lld\n", len + digits,
		    size);
		snprintf(pax, sizeof(pax), "PaxHeaders/%.80s", name);
		tar_header(h, pax, len, mtime, 'x');
		if (write_all(fd, h, sizeof(h)) == -1 ||
		    write_all(fd, rec, (size_t)len) == -1 || tar_pad(fd, len) == -1)
			return -1;
	}
	tar_header(h, name, size, mtime, '0');
	return write_all(fd, h, sizeof(h));
}

/*
 * Copy size bytes of in from offset off to out's current position, in
 * the kernel: copy_file_range (a reflink where the filesystem shares
 * blocks), else sendfile.  0, or -1 with errno set (EIO: in was short).
 */
static int
copy_range(int in, long long off, int out, long long size)
{
	loff_t	 pos = (loff_t)off;
	off_t	 spos;
	ssize_t	 n;
	int	 plain = 0;

	while (size > 0) {
		if (!plain) {
			n = copy_file_range(in, &pos, out, NULL, (size_t)(size >
			    (1LL << 30) ? (1LL << 30) : size), 0);
			if (n == -1 && (errno == EXDEV || errno == EINVAL ||
			    errno == ENOSYS || errno == EOPNOTSUPP)) {
				plain = 1;
				continue;
			}
		} else {
			spos = (off_t)pos;
			n = sendfile(out, in, &spos, (size_t)(size >
			    (1LL << 30) ? (1LL << 30) : size));
			if (n > 0)
				pos = (loff_t)spos;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		size -= n;
	}
	return 0;
}

/* A member as the reader finds it. */
struct tarent {
	char		 name[260];
	long long	 size;
	long long	 data;		/* offset of its bytes */
};

/* An octal field of len bytes (NUL or space ends it); -1 if not one. */
static long long
tar_octal(const char *p, size_t len)
{
	long long	 v = 0;
	size_t		 i = 0;

	while (i < len && p[i] == ' ')
		i++;
	if (i == len || p[i] < '0' || p[i] > '7')
		return -1;
	for (; i < len && p[i] >= '0' && p[i] <= '7'; i++) {
		if (v > (LLONG_MAX >> 3))
			return -1;
		v = (v << 3) | (p[i] - '0');
	}
	if (i < len && p[i] != '\0' && p[i] != ' ')
		return -1;
	return v;
}

/* A pax extended header's size and path records into e.  0, or -1. */
static int
pax_parse(const char *p, size_t len, struct tarent *e, int *have_size)
{
	const char	*end = p + len, *sp, *nl;
	const char	*errstr;
	char		 num[24];
	long long	 rlen;

	while (p < end) {
		if ((sp = memchr(p, ' ', (size_t)(end - p))) == NULL ||
		    sp - p >= (long)sizeof(num))
			return -1;
		snprintf(num, sizeof(num), "%.*s", (int)(sp - p), p);
		rlen = num_parse(num, 5, (long long)(end - p), &errstr);
		if (errstr != NULL || p[rlen - 1] != '\n')
			return -1;
		nl = p + rlen - 1;
		sp++;
		if (nl - sp > 5 && strncmp(sp, "size=", 5) == 0) {
			snprintf(num, sizeof(num), "%.*s", (int)(nl - sp - 5),
			    sp + 5);
			e->size = num_parse(num, 0, LLONG_MAX / 2, &errstr);
			if (errstr != NULL)
				return -1;
			*have_size = 1;
		} else if (nl - sp > 5 && strncmp(sp, "path=", 5) == 0) {
			if ((size_t)(nl - sp - 5) >= sizeof(e->name))
				return -1;
			snprintf(e->name, sizeof(e->name), "%.*s",
			    (int)(nl - sp - 5), sp + 5);
		}
		p += rlen;
	}
	return 0;
}

/*
 * The member at *off of the archive fd (asize bytes) into e, *off moved
 * past it.  A pax header's size and path apply to the member after it;
 * global ones are skipped.  Returns 1, 0 at the end of the archive (a
 * zero block, or the end of the file between members), or -1 with a
 * reason in err: truncated, a bad header, a member that is not a file.
 */
static int
tar_next(int fd, long long asize, long long *off, struct tarent *e,
    char *err, size_t errsz)
{
	unsigned char	 h[TAR_BLOCK];
	struct tarent	 pend;
	char		*pax;
	long long	 sum, size;
	int		 have_size = 0, i, bad;

	memset(e, 0, sizeof(*e));
	memset(&pend, 0, sizeof(pend));
	for (;;) {
		if (*off == asize && pend.name[0] == '\0' && !have_size)
			return 0;
		if (*off + TAR_BLOCK > asize ||
		    pread(fd, h, TAR_BLOCK, (off_t)*off) != TAR_BLOCK) {
			snprintf(err, errsz, "The archive is truncated");
			return -1;
		}
		for (i = 0, sum = 0; i < TAR_BLOCK; i++)
			sum += i >= 148 && i < 156 ? ' ' : h[i];
		if (sum == 8 * ' ')	/* an all-zero block */
			return 0;
		if (tar_octal((char *)h + 148, 8) != sum ||
		    memcmp(h + 257, "ustar", 5) != 0) {
			snprintf(err, errsz, "The archive has a bad tar header "
			    "at offset %lld", *off);
			return -1;
		}
		size = tar_octal((char *)h + 124, 12);
		if (have_size && h[156] != 'x' && h[156] != 'g')
			size = pend.size;
		if (size == -1) {
			snprintf(err, errsz, "The archive has a bad member size "
			    "at offset %lld", *off);
			return -1;
		}
		e->data = *off + TAR_BLOCK;
		e->size = size;
		if (e->data + size > asize) {
			snprintf(err, errsz, "The archive is truncated");
			return -1;
		}
		*off = e->data + (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
		if (*off > asize)
			*off = asize;	/* the last member's padding may be cut */
		if (h[156] == 'g')
			continue;
		if (h[156] == 'x') {
			if (size > PAX_MAX) {
				snprintf(err, errsz, "The archive has an "
				    "oversized pax header");
				return -1;
			}
			pax = xmalloc((size_t)size + 1);
			bad = pread(fd, pax, (size_t)size, (off_t)e->data) !=
			    (ssize_t)size || pax_parse(pax, (size_t)size, &pend,
			    &have_size) == -1;
			free(pax);
			if (bad) {
				snprintf(err, errsz, "The archive has a bad pax "
				    "header");
				return -1;
			}
			continue;
		}
		if (h[156] != '0' && h[156] != '\0') {
			snprintf(err, errsz, "The archive holds a member that is "
			    "not a plain file");
			return -1;
		}
		if (pend.name[0] != '\0')
			snprintf(e->name, sizeof(e->name), "%s", pend.name);
		else if (h[345] != '\0')
			snprintf(e->name, sizeof(e->name), "%.155s/%.100s",
			    (char *)h + 345, (char *)h);
		else
			snprintf(e->name, sizeof(e->name), "%.100s", (char *)h);
		return 1;
	}
}

/* ------------------------------------------------------------ export */

/* What an export's prepare step hands its run step. */
struct export_job {
	json_t		*manifest;
	char		 name[NAME_MAX_LEN + 1];	/* the boot config's */
	size_t		 nfiles;
	struct {
		const char	*member;
		int		 fd;
		long long	 size;
	}		 file[PORT_FILES];
};

/*
 * Object o of class cls as the manifest holds it (new reference): the
 * fields a client may write, each reference by the name of what it
 * names in o's tenant (one gone meanwhile is left out).
 */
static json_t *
export_doc(struct ctx *c, const struct objclass *cls, const struct objrow *o)
{
	const struct field	*f;
	struct objrow		 ref;
	json_t			*doc, *v;
	size_t			 i;

	doc = json_pack("{s:s}", "name", o->name);
	for (i = 0; i < cls->spec.nfields; i++) {
		f = &cls->spec.fields[i];
		if (strcmp(f->name, "name") == 0 || strcmp(f->name, "uid") == 0 ||
		    (f->flags & F_READONLY) ||
		    (v = json_object_get(o->doc, f->name)) == NULL)
			continue;
		if (f->type != F_REF) {
			json_object_set(doc, f->name, v);
			continue;
		}
		if (json_is_string(v) && obj_ref_load(c, f->ref, f->name,
		    o->tenant_id, json_string_value(v), &ref) == API_OK) {
			json_object_set_new(doc, f->name, json_string(ref.name));
			objrow_free(&ref);
		}
	}
	return doc;
}

/*
 * Open the file object uid's slot uses and describe it in files.
 * Opened here, with the database, so the bytes stay readable whatever
 * happens to the slot while run() copies them.  0 (also when the slot is
 * empty), or -1 with a reason in err.
 */
static int
export_file(struct jobrun *jr, struct export_job *ex, const char *uid,
    size_t k, json_t *files, char *err, size_t errsz)
{
	struct fileinfo	 fi;
	struct stat	 st;
	char		 path[PATH_MAX];
	int		 fd;

	if (fstore_ref_get(&jr->ctx, uid, port_files[k].slot, &fi) != API_OK)
		return 0;
	fstore_path(jr->conf, fi.sha256, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1 || st.st_size != fi.size) {
		snprintf(err, errsz, "the stored %s file %s is %s (see the "
		    "store check)", port_files[k].slot, fi.sha256, fd == -1 ?
		    "missing" : "corrupt");
		if (fd != -1)
			close(fd);
		return -1;
	}
	ex->file[ex->nfiles].member = port_files[k].member;
	ex->file[ex->nfiles].fd = fd;
	ex->file[ex->nfiles].size = fi.size;
	ex->nfiles++;
	json_array_append_new(files, json_pack("{s:s, s:s, s:s, s:s, s:s, "
	    "s:I, s:s}", "slot", port_files[k].slot, "object",
	    port_files[k].object, "member", port_files[k].member, "sha256",
	    fi.sha256, "sha1", fi.sha1, "size", (json_int_t)fi.size, "fmt",
	    fi.fmt));
	return 0;
}

/* With the database: the manifest, and the stored files opened. */
static int
export_prepare(struct jobrun *jr, char *err, size_t errsz)
{
	struct export_job	*ex;
	struct objrow		 bc, im;
	const char		*obj, *image, *by;
	json_t			*files = NULL, *imdoc = NULL;
	int			 rc = -1;

	memset(&bc, 0, sizeof(bc));
	memset(&im, 0, sizeof(im));
	ex = xcalloc(1, sizeof(*ex));
	jr->priv = ex;
	obj = json_string_value(json_object_get(jr->params, "obj"));
	by = json_string_value(json_object_get(jr->params, "by"));
	/* The API found it in the caller's scope; jobd's sees every tenant. */
	if (obj == NULL || obj_find(&jr->ctx, &bootconfig_class, obj, 0, &bc) !=
	    API_OK) {
		port_fail(jr, 404, err, errsz, "The boot config is gone");
		goto out;
	}
	snprintf(ex->name, sizeof(ex->name), "%s", bc.name);
	image = json_string_value(json_object_get(bc.doc, "image"));
	if (image != NULL && obj_ref_load(&jr->ctx, "image", "image",
	    bc.tenant_id, image, &im) == API_OK)
		imdoc = export_doc(&jr->ctx, &image_class, &im);
	files = json_array();
	if (export_file(jr, ex, bc.uid, 0, files, err, errsz) == -1 ||
	    export_file(jr, ex, bc.uid, 1, files, err, errsz) == -1 ||
	    (imdoc != NULL && export_file(jr, ex, im.uid, 2, files, err,
	    errsz) == -1))
		goto out;
	ex->manifest = json_pack("{s:s, s:i, s:f, s:s, s:s, s:o, s:o?, s:O}",
	    "format", EXPORT_FORMAT, "version", EXPORT_VERSION, "exported_at",
	    time_now(), "exported_from", jr->conf->head_name, "exported_by",
	    by != NULL ? by : "", "bootconfig", export_doc(&jr->ctx,
	    &bootconfig_class, &bc), "image", imdoc, "files", files);
	imdoc = NULL;
	rc = 0;
out:
	json_decref(imdoc);
	json_decref(files);
	objrow_free(&bc);
	objrow_free(&im);
	return rc;
}

/* Without the database: write the archive into the spool. */
static json_t *
export_run(struct jobrun *jr, char *err, size_t errsz)
{
	struct export_job	*ex = jr->priv;
	char			 part[PATH_MAX], final[PATH_MAX], *text = NULL;
	static const char	 end[2 * TAR_BLOCK];
	struct stat		 st;
	long long		 now = (long long)time_now();
	json_t			*members = NULL, *result = NULL;
	size_t			 i, len;
	int			 fd = -1, status = 500;

	snprintf(final, sizeof(final), "%s/%s", jr->conf->jobd_spool, jr->uid);
	snprintf(part, sizeof(part), "%s/%s.part", jr->conf->jobd_spool,
	    jr->uid);
	if ((fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0640)) == -1)
		goto fail;
	text = json_dumps(ex->manifest, JSON_INDENT(1) | JSON_REAL_PRECISION(16));
	if (text == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	len = strlen(text);
	members = json_pack("[s]", MANIFEST_NAME);
	if (tar_member(fd, MANIFEST_NAME, (long long)len, now) == -1 ||
	    write_all(fd, text, len) == -1 || tar_pad(fd, (long long)len) == -1)
		goto fail;
	for (i = 0; i < ex->nfiles; i++) {
		if (tar_member(fd, ex->file[i].member, ex->file[i].size, now) ==
		    -1 || copy_range(ex->file[i].fd, 0, fd, ex->file[i].size) ==
		    -1 || tar_pad(fd, ex->file[i].size) == -1)
			goto fail;
		json_array_append_new(members, json_string(ex->file[i].member));
	}
	if (write_all(fd, end, sizeof(end)) == -1 || fstat(fd, &st) == -1 ||
	    close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	/* Complete or not there: nginx never sends half an archive. */
	if (rename(part, final) == -1)
		goto fail;
	result = json_pack("{s:s, s:I, s:o}", "name", ex->name, "size",
	    (json_int_t)st.st_size, "members", members);
	members = NULL;
	free(text);
	return result;
fail:
	if (errno == ENOSPC || errno == EDQUOT)
		status = 507;
	port_fail(jr, status, err, errsz, "the archive could not be written: %s",
	    strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(part);
	free(text);
	json_decref(members);
	return NULL;
}

static void
export_cleanup(struct jobrun *jr)
{
	struct export_job	*ex = jr->priv;
	size_t			 i;

	if (ex == NULL)
		return;
	for (i = 0; i < ex->nfiles; i++)
		close(ex->file[i].fd);
	json_decref(ex->manifest);
	free(ex);
	jr->priv = NULL;
}

const struct runkind run_export = { "export", export_prepare, export_run,
    NULL, export_cleanup };

/* ------------------------------------------------------------ import */

/* One file of the manifest, as the import finds and stages it. */
struct import_file {
	const json_t	*entry;		/* borrowed from the manifest */
	size_t		 k;		/* index into port_files[] */
	int		 found;
	char		 staged[PATH_MAX];	/* "" once ingested or gone */
};

/* What an import works with, from the manifest to the result. */
struct import_job {
	struct jobrun		*jr;
	struct ctx		 c;		/* its own connection */
	json_t			*manifest;
	struct import_file	 files[PORT_FILES];
	size_t			 nfiles;
	const char		*name, *image_name;	/* the new names */
	char			 bc_uid[UID_LEN + 1], im_uid[UID_LEN + 1];
	json_t			*dropped;	/* references not found here */
	char			*err;
	size_t			 errsz;
};

/* Whether a manifest's member name is one an export writes. */
static int
member_known(const char *m, size_t *k)
{
	for (*k = 0; *k < PORT_FILES; (*k)++)
		if (strcmp(port_files[*k].member, m) == 0)
			return 1;
	return 0;
}

/*
 * Check the manifest's shape (its documents are checked against their
 * classes later) and note its files.  0, or -1 with a reason.
 */
static int
import_manifest(struct import_job *ij)
{
	const json_t	*m = ij->manifest, *v, *e, *files;
	const char	*slot, *member, *sha1;
	size_t		 i, j, k;

	if (!json_is_object(m) || (v = json_object_get(m, "format")) == NULL ||
	    !json_is_string(v) || strcmp(json_string_value(v), EXPORT_FORMAT))
		goto bad;
	v = json_object_get(m, "version");
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		goto bad;
	if (json_integer_value(v) > EXPORT_VERSION) {
		snprintf(ij->err, ij->errsz, "The archive was made by a newer "
		    "corral (format version %lld; this one reads %d)",
		    (long long)json_integer_value(v), EXPORT_VERSION);
		return -1;
	}
	if (!json_is_object(json_object_get(m, "bootconfig")) ||
	    !json_is_string(json_object_get(json_object_get(m, "bootconfig"),
	    "name")))
		goto bad;
	v = json_object_get(m, "image");
	if (v != NULL && !json_is_null(v) && (!json_is_object(v) ||
	    !json_is_string(json_object_get(v, "name"))))
		goto bad;
	files = json_object_get(m, "files");
	if (!json_is_array(files) || json_array_size(files) > PORT_FILES)
		goto bad;
	json_array_foreach(files, i, e) {
		slot = json_string_value(json_object_get(e, "slot"));
		member = json_string_value(json_object_get(e, "member"));
		sha1 = json_string_value(json_object_get(e, "sha1"));
		v = json_object_get(e, "size");
		if (slot == NULL || member == NULL || !member_known(member, &k) ||
		    strcmp(port_files[k].slot, slot) != 0 ||
		    !valid_sha256(json_string_value(json_object_get(e,
		    "sha256"))) || sha1 == NULL || strlen(sha1) != SHA1_HEX ||
		    strspn(sha1, "0123456789abcdef") != SHA1_HEX ||
		    !json_is_integer(v) || json_integer_value(v) < 0)
			goto bad;
		/* An image's file without an image to keep it in. */
		if (strcmp(port_files[k].object, "image") == 0 &&
		    !json_is_object(json_object_get(m, "image")))
			goto bad;
		for (j = 0; j < ij->nfiles; j++)
			if (ij->files[j].k == k)
				goto bad;
		ij->files[ij->nfiles].entry = e;
		ij->files[ij->nfiles].k = k;
		ij->nfiles++;
	}
	return 0;
bad:
	snprintf(ij->err, ij->errsz, "The archive's manifest is not one GET "
	    "/bootconfig/<ID>/export writes");
	return -1;
}

/* 409 unless no object of cls is called name in the tenant. */
static int
import_name_free(struct import_job *ij, const struct objclass *cls,
    const char *name, const char *option)
{
	struct objrow	 o;
	enum apierr	 rc;

	if ((rc = obj_find(&ij->c, cls, name, 0, &o)) == API_OK) {
		objrow_free(&o);
		port_fail(ij->jr, 409, ij->err, ij->errsz, "A%s %s named %s "
		    "exists already; import with ?%s=<new name>, or delete it "
		    "first", cls->label[0] == 'i' ? "n" : "", cls->label, name,
		    option);
		return -1;
	}
	if (rc != API_NOT_FOUND) {
		port_fail(ij->jr, resp_status(rc), ij->err, ij->errsz, "%s",
		    ij->c.reason);
		return -1;
	}
	return 0;
}

/*
 * Copy member e into a staging file and check it against its manifest
 * entry.  0, or an HTTP status with a reason.
 */
static int
import_stage(struct import_job *ij, int afd, const struct tarent *e)
{
	struct import_file	*f = NULL;
	char			 sha256[SHA256_HEX + 1], sha1[SHA1_HEX + 1];
	size_t			 i, k;
	int			 fd;

	for (i = 0; i < ij->nfiles; i++)
		if (member_known(e->name, &k) && ij->files[i].k == k)
			f = &ij->files[i];
	if (f == NULL || f->found) {
		snprintf(ij->err, ij->errsz, "The archive holds %.100s, which "
		    "its manifest does not list", e->name);
		return 400;
	}
	f->found = 1;
	if (e->size != json_integer_value(json_object_get(f->entry, "size"))) {
		snprintf(ij->err, ij->errsz, "The archive's %s is %lld bytes, "
		    "its manifest says %lld", e->name, e->size, (long long)
		    json_integer_value(json_object_get(f->entry, "size")));
		return 400;
	}
	if ((fd = fstore_staging_open(ij->jr->conf, f->staged,
	    sizeof(f->staged))) == -1) {
		f->staged[0] = '\0';
		snprintf(ij->err, ij->errsz, "no staging file: %s",
		    strerror(errno));
		return errno == ENOSPC ? 507 : 500;
	}
	if (copy_range(afd, e->data, fd, e->size) == -1 ||
	    crypto_digest_file(fd, e->size, sha256, sha1, NULL) == -1) {
		snprintf(ij->err, ij->errsz, "%s could not be extracted: %s",
		    e->name, strerror(errno));
		close(fd);
		return errno == ENOSPC ? 507 : 500;
	}
	close(fd);
	if (strcmp(sha256, json_string_value(json_object_get(f->entry,
	    "sha256"))) != 0 || strcmp(sha1, json_string_value(
	    json_object_get(f->entry, "sha1"))) != 0) {
		snprintf(ij->err, ij->errsz, "Checksum mismatch: the archive's "
		    "%s has SHA-256 %s, its manifest says %s", e->name, sha256,
		    json_string_value(json_object_get(f->entry, "sha256")));
		return 400;
	}
	return 0;
}

/*
 * The manifest's document of class cls, ready to create (new reference
 * into *out): named name, unfrozen (*frozen says whether to freeze it
 * once its files are in), each reference (but the boot config's image)
 * to what has that name in the tenant, or left out and noted in dropped
 * when nothing has, then checked as POST would check it.  0, or an HTTP
 * status with a reason.
 */
static int
import_doc(struct import_job *ij, const struct objclass *cls,
    const json_t *mdoc, const char *name, int *frozen, json_t **out)
{
	const struct field	*f;
	struct objrow		 ref;
	json_t			*doc, *v;
	char			 why[REASON_MAX];
	size_t			 i;
	enum apierr		 rc;

	*out = NULL;
	doc = json_deep_copy(mdoc);
	json_object_set_new(doc, "name", json_string(name));
	*frozen = json_is_true(json_object_get(doc, "frozen"));
	json_object_del(doc, "frozen");
	for (i = 0; i < cls->spec.nfields; i++) {
		f = &cls->spec.fields[i];
		if (f->type != F_REF || (cls == &bootconfig_class &&
		    strcmp(f->name, "image") == 0) ||
		    !json_is_string(v = json_object_get(doc, f->name)))
			continue;
		rc = obj_ref_load(&ij->c, f->ref, f->name, ij->jr->tenant,
		    json_string_value(v), &ref);
		if (rc == API_OK) {
			json_object_set_new(doc, f->name, json_string(ref.uid));
			objrow_free(&ref);
		} else if (rc == API_BAD_REQUEST) {
			json_array_append_new(ij->dropped, json_sprintf("%s %s: "
			    "no %s named %s here", cls->label, f->name, f->ref,
			    json_string_value(v)));
			json_object_del(doc, f->name);
		} else {
			json_decref(doc);
			snprintf(ij->err, ij->errsz, "%s", ij->c.reason);
			return resp_status(rc);
		}
	}
	if (json_check_object(&cls->spec, doc, 0, why, sizeof(why)) != API_OK) {
		json_decref(doc);
		snprintf(ij->err, ij->errsz, "The archive's %s: %s", cls->label,
		    why);
		return 400;
	}
	*out = doc;
	return 0;
}

/* Store the staged files of object uid's class (object) into its slots. */
static int
import_ingest(struct import_job *ij, const char *object, const char *uid)
{
	struct fileexpect	 expect;
	struct fileinfo		 fi;
	struct import_file	*f;
	char			 replaced[SHA256_HEX + 1];	/* none: new objects */
	size_t			 i;
	int			 status;

	for (i = 0; i < ij->nfiles; i++) {
		f = &ij->files[i];
		if (strcmp(port_files[f->k].object, object) != 0)
			continue;
		memset(&expect, 0, sizeof(expect));
		snprintf(expect.sha256, sizeof(expect.sha256), "%s",
		    json_string_value(json_object_get(f->entry, "sha256")));
		status = fstore_ingest(&ij->c, f->staged, uid,
		    port_files[f->k].slot, &expect, &fi, replaced, ij->err,
		    ij->errsz);
		f->staged[0] = '\0';	/* consumed, whatever happened */
		if (status != 0)
			return status;
	}
	return 0;
}

/* Create the object of cls from doc (consumed), store its files, freeze. */
static int
import_create(struct import_job *ij, const struct objclass *cls,
    json_t *doc, int frozen, char uid[UID_LEN + 1])
{
	enum apierr	 rc;
	int		 status;

	if ((rc = obj_create(&ij->c, cls, doc, ij->jr->tenant, uid)) != API_OK) {
		uid[0] = '\0';
		snprintf(ij->err, ij->errsz, "%s", ij->c.reason);
		return resp_status(rc);
	}
	if ((status = import_ingest(ij, cls == &image_class ? "image" :
	    "bootconfig", uid)) != 0)
		return status;
	if (frozen && (rc = obj_change(&ij->c, cls, uid, json_pack("{s:b}",
	    "frozen", 1), HOW_PATCH)) != API_OK) {
		snprintf(ij->err, ij->errsz, "%s", ij->c.reason);
		return resp_status(rc);
	}
	return 0;
}

/* Create the image (if any) and the boot config.  0, or a status. */
static int
import_objects(struct import_job *ij)
{
	const json_t	*m = ij->manifest;
	json_t		*bcdoc = NULL, *imdoc = NULL;
	int		 bcfrozen = 0, imfrozen = 0, status;

	if (ij->image_name != NULL && (status = import_doc(ij, &image_class,
	    json_object_get(m, "image"), ij->image_name, &imfrozen,
	    &imdoc)) != 0)
		goto out;
	if ((status = import_doc(ij, &bootconfig_class, json_object_get(m,
	    "bootconfig"), ij->name, &bcfrozen, &bcdoc)) != 0)
		goto out;
	/* The boot config boots the image that came with it, or none. */
	json_object_del(bcdoc, "image");
	if (imdoc != NULL) {
		status = import_create(ij, &image_class, imdoc, imfrozen,
		    ij->im_uid);
		imdoc = NULL;
		if (status != 0)
			goto out;
		json_object_set_new(bcdoc, "image", json_string(ij->im_uid));
	}
	status = import_create(ij, &bootconfig_class, bcdoc, bcfrozen,
	    ij->bc_uid);
	bcdoc = NULL;
out:
	json_decref(imdoc);
	json_decref(bcdoc);
	return status;
}

/* Undo a failed import: what it created goes, with its files' uses. */
static void
import_undo(struct import_job *ij)
{
	char	 keep[REASON_MAX];

	snprintf(keep, sizeof(keep), "%s", ij->c.reason);
	/* Unfrozen first: a frozen object refuses to be deleted. */
	if (ij->bc_uid[0] != '\0') {
		obj_change(&ij->c, &bootconfig_class, ij->bc_uid,
		    json_pack("{s:b}", "frozen", 0), HOW_PATCH);
		if (obj_delete(&ij->c, &bootconfig_class, ij->bc_uid) != API_OK)
			log_err("import: boot config %s could not be removed "
			    "again: %s", ij->bc_uid, ij->c.reason);
	}
	if (ij->im_uid[0] != '\0') {
		obj_change(&ij->c, &image_class, ij->im_uid,
		    json_pack("{s:b}", "frozen", 0), HOW_PATCH);
		if (obj_delete(&ij->c, &image_class, ij->im_uid) != API_OK)
			log_err("import: image %s could not be removed again: "
			    "%s", ij->im_uid, ij->c.reason);
	}
	snprintf(ij->c.reason, sizeof(ij->c.reason), "%s", keep);
}

/*
 * Read the archive at path: the manifest first, then every file it
 * lists, each staged and checked.  0, or an HTTP status with a reason.
 */
static int
import_read(struct import_job *ij, int fd, long long asize)
{
	struct tarent	 e;
	char		*text = NULL, why[256];
	long long	 off = 0;
	size_t		 i;
	int		 rc, status = 400;

	if ((rc = tar_next(fd, asize, &off, &e, ij->err, ij->errsz)) != 1) {
		if (rc == 0)
			snprintf(ij->err, ij->errsz, "The archive is empty");
		goto out;
	}
	if (strcmp(e.name, MANIFEST_NAME) != 0 || e.size == 0 ||
	    e.size > MANIFEST_MAX) {
		snprintf(ij->err, ij->errsz, "The archive does not start with "
		    "its manifest (%s)", MANIFEST_NAME);
		goto out;
	}
	text = xmalloc((size_t)e.size + 1);
	if (pread(fd, text, (size_t)e.size, (off_t)e.data) != (ssize_t)e.size) {
		snprintf(ij->err, ij->errsz, "The archive is truncated");
		goto out;
	}
	if ((ij->manifest = json_decode_strict(text, (size_t)e.size, why,
	    sizeof(why))) == NULL) {
		snprintf(ij->err, ij->errsz, "The archive's manifest is not "
		    "JSON: %s", why);
		goto out;
	}
	if (import_manifest(ij) == -1)
		goto out;
	/* A clash costs no copying: names are checked before the files. */
	ij->name = json_string_value(json_object_get(ij->jr->params, "rename"));
	if (ij->name == NULL)
		ij->name = json_string_value(json_object_get(json_object_get(
		    ij->manifest, "bootconfig"), "name"));
	if (json_is_object(json_object_get(ij->manifest, "image"))) {
		ij->image_name = json_string_value(json_object_get(
		    ij->jr->params, "image_rename"));
		if (ij->image_name == NULL)
			ij->image_name = json_string_value(json_object_get(
			    json_object_get(ij->manifest, "image"), "name"));
	}
	if (import_name_free(ij, &bootconfig_class, ij->name, "rename") == -1 ||
	    (ij->image_name != NULL && import_name_free(ij, &image_class,
	    ij->image_name, "image_rename") == -1)) {
		status = ij->jr->fail_status != 0 ? ij->jr->fail_status : 500;
		goto out;
	}
	while ((rc = tar_next(fd, asize, &off, &e, ij->err, ij->errsz)) == 1)
		if ((status = import_stage(ij, fd, &e)) != 0)
			goto out;
	status = 400;
	if (rc == -1)
		goto out;
	for (i = 0; i < ij->nfiles; i++)
		if (!ij->files[i].found) {
			snprintf(ij->err, ij->errsz, "The archive is truncated: "
			    "it lacks %s", port_files[ij->files[i].k].member);
			goto out;
		}
	status = 0;
out:
	free(text);
	return status;
}

/* The import, on a connection of its own (the heartbeat owns the job's). */
static json_t *
import_run(struct jobrun *jr, char *err, size_t errsz)
{
	struct import_job	 ij;
	struct stat		 st;
	struct db		*db = NULL;
	const char		*staged, *by;
	json_t			*result = NULL, *files;
	char			 path[PATH_MAX];
	size_t			 i;
	int			 fd = -1, status = 500;

	memset(&ij, 0, sizeof(ij));
	ij.jr = jr;
	ij.err = err;
	ij.errsz = errsz;
	ij.dropped = json_array();
	staged = json_string_value(json_object_get(jr->params, "staged"));
	by = json_string_value(json_object_get(jr->params, "by"));
	/* The API checked these, but a runner trusts no row it did not write. */
	if (staged == NULL || !uid_valid(staged)) {
		snprintf(err, errsz, "malformed import job");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/staging/%s", jr->conf->files_dir,
	    staged);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(err, errsz, "the archive is gone: %s", strerror(errno));
		goto out;
	}
	if ((db = db_open(jr->conf)) == NULL || db_ready(db) == -1) {
		snprintf(err, errsz, "no database connection for the import");
		goto out;
	}
	/*
	 * The caller's tenant, name and roles: the objects are theirs, and
	 * the engine's tenancy rules hold as for POST /bootconfigs.
	 */
	ctx_init(&ij.c, db, jr->conf, scope_of_tenant(jr->tenant, (unsigned int)
	    json_integer_value(json_object_get(jr->params, "roles")),
	    by != NULL ? by : "jobd"));
	if ((status = import_read(&ij, fd, (long long)st.st_size)) != 0 ||
	    (status = import_objects(&ij)) != 0) {
		import_undo(&ij);
		goto out;
	}
	files = json_array();
	for (i = 0; i < ij.nfiles; i++)
		json_array_append_new(files, json_pack("{s:s, s:O, s:O}", "slot",
		    port_files[ij.files[i].k].slot, "sha256",
		    json_object_get(ij.files[i].entry, "sha256"), "size",
		    json_object_get(ij.files[i].entry, "size")));
	result = json_pack("{s:s, s:s?, s:s, s:s?, s:o, s:O}", "bootconfig",
	    ij.bc_uid, "image", ij.im_uid[0] != '\0' ? ij.im_uid : NULL,
	    "name", ij.name, "image_name", ij.image_name, "files", files,
	    "dropped", ij.dropped);
out:
	if (result == NULL && status >= 400 && status != 500)
		jr->fail_status = status;
	for (i = 0; i < ij.nfiles; i++)
		if (ij.files[i].staged[0] != '\0')
			unlink(ij.files[i].staged);
	if (fd != -1)
		close(fd);
	if (staged != NULL && uid_valid(staged))
		unlink(path);
	if (db != NULL) {
		ctx_clear(&ij.c);
		db_close(db);
	}
	json_decref(ij.manifest);
	json_decref(ij.dropped);
	return result;
}

const struct runkind run_import = { "import", NULL, import_run, NULL, NULL };
