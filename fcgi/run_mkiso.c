/*
 * Running a mkiso job (parameters checked by job_image.c): a bootable
 * ISO 9660 image of a boot config, written to the spool file [jobd]
 * spool/<job UID> that nginx streams to the caller (GET
 * /job/<ID>/result), as exec output is.
 *
 * GRUB's grub-mkrescue (grub-pc-bin, grub-efi-amd64-bin, xorriso,
 * mtools) makes an ISO that boots by BIOS (El Torito, and as a disk
 * through its hybrid MBR) and by UEFI (an EFI system partition image).
 * Its grub.cfg, written here, boots the kernel with the boot config's
 * cmdline and the initramfs at once, on the console and the first serial
 * port alike (cluster nodes are watched over serial-over-LAN).  The
 * kernel, the initramfs and the image are grafted in from the artifact
 * store where they lie, never copied:
 *   /boot/vmlinuz  /boot/initramfs  /LiveOS/squashfs.img (an image's
 *   content, if any: where dracut's dmsquash-live looks, so a dracut
 *   initramfs boots it with root=live:CDLABEL=CORRAL)
 * The volume label is CORRAL.  Jobs are pinned to the head that queued
 * them, as the spool file is on its disk.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extern.h"

#define ISO_LABEL	"CORRAL"

/* grub-mkrescue's fixed arguments (posix_spawn wants them writable). */
static char	 arg_out[] = "-o", arg_volid[] = "-volid", arg_label[] = ISO_LABEL;

struct mkiso_job {
	char	 kernel[1024];
	char	 initrd[1024];
	char	 image[1024];		/* "" for none */
	char	*name;			/* the boot config's */
	char	*cmdline;		/* its cmdline, or NULL */
	char	 work[1024];		/* grub.cfg's tree */
	char	 part[1024];		/* the ISO being written */
	char	 out[1024];		/* the spool file */
	char	 errlog[1100];		/* grub-mkrescue's messages */
};

/* The stored file of uid's slot into path, or -1 with a reason. */
static int
slot_path(struct jobrun *jr, const char *uid, const char *what,
    const char *slot, char *path, size_t pathsz, char *err, size_t errsz)
{
	struct fileinfo	 fi;

	if (fstore_ref_get(&jr->ctx, uid, slot, &fi) != API_OK) {
		snprintf(err, errsz, "%s has no %s any more", what, slot);
		return -1;
	}
	fstore_path(jr->conf, fi.sha256, path, pathsz);
	if (access(path, R_OK) == -1) {
		snprintf(err, errsz, "the %s of %s is not on this head's disk",
		    slot, what);
		log_err("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
mkiso_prepare(struct jobrun *jr, char *err, size_t errsz)
{
	struct mkiso_job	*mj;
	struct objrow		 bc;
	const char		*img, *cmd;
	int			 rc = -1;

	mj = jr->priv = xcalloc(1, sizeof(*mj));
	if (obj_find(&jr->ctx, &bootconfig_class, json_string_value(
	    json_object_get(jr->params, "bootconfig")), 0, &bc) != API_OK) {
		snprintf(err, errsz, "the boot config no longer exists");
		return -1;
	}
	mj->name = xstrdup(bc.name);
	if ((cmd = json_string_value(json_object_get(bc.doc, "cmdline"))) !=
	    NULL)
		mj->cmdline = xstrdup(cmd);
	if (slot_path(jr, bc.uid, bc.name, "kernel", mj->kernel,
	    sizeof(mj->kernel), err, errsz) == -1 ||
	    slot_path(jr, bc.uid, bc.name, "initramfs", mj->initrd,
	    sizeof(mj->initrd), err, errsz) == -1)
		goto out;
	img = json_string_value(json_object_get(jr->params, "image"));
	if (img != NULL && slot_path(jr, img, "the image", "content",
	    mj->image, sizeof(mj->image), err, errsz) == -1)
		goto out;
	rc = 0;
out:
	objrow_free(&bc);
	return rc;
}

/*
 * cmdline as GRUB words: each blank-separated word single-quoted (a
 * quote as '\''), so nothing in it is a GRUB variable, command or
 * comment; GRUB joins the words with single blanks for the kernel.
 */
static void
grub_words(FILE *f, const char *cmdline)
{
	const char	*p;

	for (p = cmdline; p != NULL && *p != '\0'; ) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		fputs(" '", f);
		for (; *p != '\0' && *p != ' ' && *p != '\t'; p++)
			if (*p == '\'')
				fputs("'\\''", f);
			else
				fputc(*p, f);
		fputc('\'', f);
	}
}

/* work/boot/grub/grub.cfg.  0, or -1 with a reason. */
static int
grub_cfg_write(const struct mkiso_job *mj, char *err, size_t errsz)
{
	char	 path[1100];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/boot", mj->work);
	if (mkdir(path, 0750) == -1)
		goto fail;
	snprintf(path, sizeof(path), "%s/boot/grub", mj->work);
	if (mkdir(path, 0750) == -1)
		goto fail;
	snprintf(path, sizeof(path), "%s/boot/grub/grub.cfg", mj->work);
	if ((f = fopen(path, "w")) == NULL)
		goto fail;
	fprintf(f, "# made by corral for boot config %s\n"
	    "serial --unit=0 --speed=115200\n"
	    "terminal_input console serial\n"
	    "terminal_output console serial\n"
	    "set timeout=3\n"
	    "set default=0\n"
	    "menuentry 'corral %s' {\n\tlinux /boot/vmlinuz", mj->name,
	    mj->name);	/* names are [A-Za-z0-9._-]: nothing to quote */
	grub_words(f, mj->cmdline);
	fputs("\n\tinitrd /boot/initramfs\n}\n", f);
	if (fclose(f) == EOF)
		goto fail;
	return 0;
fail:
	snprintf(err, errsz, "%s: %s", path, strerror(errno));
	return -1;
}

/*
 * grub-mkrescue's own complaint says only that xorriso failed; xorriso's
 * "FAILURE :" line says why.  Put it in err when the log has one.
 */
static void
xorriso_failure(const char *errlog, char *err, size_t errsz)
{
	char	 line[512], *p, *e;
	FILE	*f;

	if ((f = fopen(errlog, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if ((p = strstr(line, "FAILURE : ")) != NULL) {
			p += strlen("FAILURE : ");
			if ((e = strchr(p, '\n')) != NULL)
				*e = '\0';
			utf8_clean(p);
			snprintf(err, errsz, "xorriso (grub-mkrescue) failed: "
			    "%.300s", p);
		}
	fclose(f);
}

static json_t *
mkiso_run(struct jobrun *jr, char *err, size_t errsz)
{
	struct mkiso_job	*mj = jr->priv;
	struct stat		 st;
	char			 g_kernel[1100], g_initrd[1100], g_image[1100];
	char			*argv[16];
	size_t			 n = 0;
	pid_t			 pid;

	snprintf(mj->work, sizeof(mj->work), "%s/%s.work", jr->conf->jobd_spool,
	    jr->uid);
	snprintf(mj->part, sizeof(mj->part), "%s/%s.part", jr->conf->jobd_spool,
	    jr->uid);
	snprintf(mj->out, sizeof(mj->out), "%s/%s", jr->conf->jobd_spool,
	    jr->uid);
	/* Not in the work tree: that goes onto the ISO. */
	snprintf(mj->errlog, sizeof(mj->errlog), "%s/%s.log",
	    jr->conf->jobd_spool, jr->uid);
	if (mkdir(mj->work, 0750) == -1) {
		snprintf(err, errsz, "%s: %s", mj->work, strerror(errno));
		mj->work[0] = '\0';
		return NULL;
	}
	if (grub_cfg_write(mj, err, errsz) == -1)
		return NULL;
	/* Graft points (path on the ISO=path on disk): xorriso's mkisofs mode. */
	snprintf(g_kernel, sizeof(g_kernel), "/boot/vmlinuz=%s", mj->kernel);
	snprintf(g_initrd, sizeof(g_initrd), "/boot/initramfs=%s", mj->initrd);
	snprintf(g_image, sizeof(g_image), "/LiveOS/squashfs.img=%s", mj->image);
	argv[n++] = jr->conf->iso_mkrescue;
	argv[n++] = arg_out;
	argv[n++] = mj->part;
	argv[n++] = arg_volid;
	argv[n++] = arg_label;
	argv[n++] = mj->work;
	argv[n++] = g_kernel;
	argv[n++] = g_initrd;
	if (mj->image[0] != '\0')
		argv[n++] = g_image;
	argv[n] = NULL;
	if (tool_spawn(argv, -1, -1, mj->errlog, &pid, err, errsz) == -1)
		return NULL;
	if (tool_wait(pid, monotonic_ms() + 1000LL * jr->conf->iso_time_limit,
	    "grub-mkrescue", mj->errlog, err, errsz) == -1) {
		xorriso_failure(mj->errlog, err, errsz);
		return NULL;
	}
	if (stat(mj->part, &st) == -1 || rename(mj->part, mj->out) == -1) {
		snprintf(err, errsz, "the ISO was not written: %s",
		    strerror(errno));
		return NULL;
	}
	return json_pack("{s:s, s:I, s:s, s:b}", "bootconfig", mj->name,
	    "size", (json_int_t)st.st_size, "label", ISO_LABEL, "image",
	    mj->image[0] != '\0');
}

static void
mkiso_cleanup(struct jobrun *jr)
{
	struct mkiso_job	*mj = jr->priv;
	char			 path[1100];

	if (mj == NULL)
		return;
	if (mj->work[0] != '\0') {
		snprintf(path, sizeof(path), "%s/boot/grub/grub.cfg", mj->work);
		(void)unlink(path);
		snprintf(path, sizeof(path), "%s/boot/grub", mj->work);
		(void)rmdir(path);
		snprintf(path, sizeof(path), "%s/boot", mj->work);
		(void)rmdir(path);
		(void)rmdir(mj->work);
	}
	if (mj->errlog[0] != '\0')
		(void)unlink(mj->errlog);
	if (mj->part[0] != '\0')
		(void)unlink(mj->part);	/* gone already when it was renamed */
	free(mj->name);
	free(mj->cmdline);
	free(mj);
	jr->priv = NULL;
}

const struct runkind run_mkiso = {
	"mkiso", mkiso_prepare, mkiso_run, NULL, mkiso_cleanup
};
