/*
 * NAME
 *	json.c - streaming JSON writer for sts-dane-query
 * DESCRIPTION
 *	Keys are written only inside objects (pass NULL inside arrays).
 *	Nesting deeper than the fixed limit is a programming error and is
 *	clamped rather than overflowing.
 */
#include <inttypes.h>
#include <string.h>

#include "json.h"

#define MAXDEPTH ((int)(sizeof(((struct json *)0)->first) / sizeof(int)))

void
json_init(struct json *j, FILE *fp)
{
	memset(j, 0, sizeof(*j));
	j->fp = fp;
	j->first[0] = 1;
}

static void
put_escaped(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', fp);
	for (; *p != '\0'; p++) {
		switch (*p) {
		case '"': fputs("\\\"", fp); break;
		case '\\': fputs("\\\\", fp); break;
		case '\n': fputs("\\n", fp); break;
		case '\r': fputs("\\r", fp); break;
		case '\t': fputs("\\t", fp); break;
		default:
			if (*p < 0x20 || *p >= 0x7f)
				fprintf(fp, "\\u%04x", *p);
			else
				fputc(*p, fp);
		}
	}
	fputc('"', fp);
}

static void
member(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->fp);
	j->first[j->depth] = 0;
	if (key != NULL) {
		put_escaped(j->fp, key);
		fputc(':', j->fp);
	}
}

static void
open_(struct json *j, const char *key, int c)
{
	member(j, key);
	fputc(c, j->fp);
	if (j->depth < MAXDEPTH - 1)
		j->depth++;
	j->first[j->depth] = 1;
}

static void
close_(struct json *j, int c)
{
	fputc(c, j->fp);
	if (j->depth > 0)
		j->depth--;
}

void json_begin_object(struct json *j, const char *key) { open_(j, key, '{'); }
void json_end_object(struct json *j) { close_(j, '}'); }
void json_begin_array(struct json *j, const char *key) { open_(j, key, '['); }
void json_end_array(struct json *j) { close_(j, ']'); }

void
json_string(struct json *j, const char *key, const char *value)
{
	if (value == NULL) {
		json_null(j, key);
		return;
	}
	member(j, key);
	put_escaped(j->fp, value);
}

void
json_int(struct json *j, const char *key, int64_t value)
{
	member(j, key);
	fprintf(j->fp, "%" PRId64, value);
}

void
json_bool(struct json *j, const char *key, int value)
{
	member(j, key);
	fputs(value ? "true" : "false", j->fp);
}

void
json_null(struct json *j, const char *key)
{
	member(j, key);
	fputs("null", j->fp);
}

void
json_finish(struct json *j)
{
	fputc('\n', j->fp);
	fflush(j->fp);
}
