/*
 * NAME
 *	dummy_dlfunc.c - an Exim ${dlfunc} that does nothing
 * SUMMARY
 *	The reference modules of make bench: built once linked with libcurl
 *	only, once with Berkeley DB, libunbound and GnuTLS only, so that the
 *	cost of merely loading those libraries into a fresh Exim process
 *	can be set beside the cost of the real module.
 * SYNOPSIS
 *	${dlfunc{dummy-curl.so}{bench_dummy}{ARG}}
 * DESCRIPTION
 *	bench_dummy yields the constant "dummy".  The libraries are linked
 *	with --no-as-needed, so the dynamic loader maps and relocates them
 *	although nothing here calls them: that is the whole cost measured.
 * SEE ALSO
 *	tests/bench/run.sh, docs/performance.md
 */

/* Exim's dlfunc signature (local_scan.h): OK is 0. */
typedef unsigned char uschar;

int bench_dummy(uschar **yield, int argc, uschar *argv[])
    __attribute__((visibility("default")));

int
bench_dummy(uschar **yield, int argc, uschar *argv[])
{
	static uschar word[] = "dummy";

	(void)argc;
	(void)argv;
	*yield = word;
	return 0;
}
