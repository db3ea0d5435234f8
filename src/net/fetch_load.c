/*
 * NAME
 *	fetch_load.c - load stsdane-fetch.so on first need
 * SYNOPSIS
 *	const struct fetch_ops *fetch_load(char *err, size_t errlen)
 * DESCRIPTION
 *	Looks for stsdane-fetch.so beside the object this code was loaded
 *	from (the library or the MTA module), then in its stsdane/
 *	subdirectory, then in the compiled-in package directory.  The
 *	module is never unloaded: libcurl and GnuTLS keep process-wide
 *	state that must outlive any one context.
 * DIAGNOSTICS
 *	NULL with the paths tried and dlerror() text in err.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "fetch.h"
#include "util.h"

#ifndef STSDANE_PKGLIBDIR
#define STSDANE_PKGLIBDIR "/usr/local/lib/stsdane"
#endif

static const struct fetch_ops *
try_path(const char *path, char *err, size_t errlen)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	fetch_ops_fn *fn;
	const struct fetch_ops *ops;

	if (h == NULL) {
		(void)sd_snprintf(err, errlen, "cannot load '%s': %s", path,
		    dlerror());
		return NULL;
	}
	*(void **)&fn = dlsym(h, FETCH_OPS_SYMBOL);
	ops = fn != NULL ? fn(FETCH_ABI) : NULL;
	if (ops == NULL) {
		(void)sd_snprintf(err, errlen,
		    "'%s' does not offer fetch interface %u", path, FETCH_ABI);
		dlclose(h);
		return NULL;
	}
	return ops;
}

const struct fetch_ops *
fetch_load(char *err, size_t errlen)
{
	char dir[4096], path[4200];
	const struct fetch_ops *ops;
	Dl_info info;
	char *slash;

	if (dladdr((void *)fetch_load, &info) != 0 &&
	    info.dli_fname != NULL &&
	    sd_strlcpy(dir, info.dli_fname, sizeof(dir)) == 0 &&
	    (slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		if (sd_snprintf(path, sizeof(path), "%s/stsdane-fetch.so",
		    dir) == 0 && (ops = try_path(path, err, errlen)) != NULL)
			return ops;
		if (sd_snprintf(path, sizeof(path),
		    "%s/stsdane/stsdane-fetch.so", dir) == 0 &&
		    (ops = try_path(path, err, errlen)) != NULL)
			return ops;
	}
	return try_path(STSDANE_PKGLIBDIR "/stsdane-fetch.so", err, errlen);
}

/*
 * Another function of the same module (the report POST, the report
 * JSON): found through the module that fetch_load() loaded (dladdr of
 * its table), so that all come from one file.
 */
void *
fetch_sym_load(const char *symbol, char *err, size_t errlen)
{
	const struct fetch_ops *ops = fetch_load(err, errlen);
	void *fn = NULL;
	Dl_info info;
	void *h;

	if (ops == NULL)
		return NULL;
	if (dladdr((const void *)ops, &info) == 0 || info.dli_fname == NULL) {
		(void)sd_snprintf(err, errlen, "cannot find the fetch module");
		return NULL;
	}
	h = dlopen(info.dli_fname, RTLD_NOW | RTLD_LOCAL);
	if (h != NULL)
		fn = dlsym(h, symbol);
	if (fn == NULL)
		(void)sd_snprintf(err, errlen, "'%s' does not offer %s",
		    info.dli_fname, symbol);
	return fn;
}
