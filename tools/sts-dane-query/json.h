/*
 * json.h - a tiny JSON writer for sts-dane-query's --json output
 *
 * Writes to a FILE as it goes; the caller nests objects and arrays and
 * the writer places the commas.  Strings are escaped per RFC 8259; bytes
 * that are not valid UTF-8 are written as \u00XX so the output always
 * parses.
 */
#ifndef STS_DANE_QUERY_JSON_H
#define STS_DANE_QUERY_JSON_H

#include <stdint.h>
#include <stdio.h>

struct json {
	FILE *fp;
	int depth;
	int first[16];		/* no member written yet at this depth */
};

void json_init(struct json *j, FILE *fp);
void json_begin_object(struct json *j, const char *key);
void json_end_object(struct json *j);
void json_begin_array(struct json *j, const char *key);
void json_end_array(struct json *j);
void json_string(struct json *j, const char *key, const char *value);
void json_int(struct json *j, const char *key, int64_t value);
void json_bool(struct json *j, const char *key, int value);
void json_null(struct json *j, const char *key);
void json_finish(struct json *j);

#endif
