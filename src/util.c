/*
 * NAME
 *	util.c - bounded string helpers and host name syntax
 * DESCRIPTION
 *	Every copy and format in stsdane goes through these, so that
 *	truncation is always checked and reported rather than silent.
 *	sd_strdup() and sd_strndup() return memory the caller frees.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int
sd_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	int n;

	if (buf == NULL || len == 0)
		return -1;
	n = vsnprintf(buf, len, fmt, ap);
	if (n < 0) {
		buf[0] = '\0';
		return -1;
	}
	return (size_t)n >= len ? -1 : 0;
}

int
sd_snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sd_vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return rc;
}

int
sd_strlcpy(char *dst, const char *src, size_t len)
{
	size_t n;

	if (dst == NULL || len == 0)
		return -1;
	n = strlen(src);
	if (n >= len) {
		memcpy(dst, src, len - 1);
		dst[len - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

char *
sd_strdup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

char *
sd_strndup(const char *s, size_t n)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = malloc(n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static int
label_char(int c, int allow_underscore)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')
		return 1;
	return allow_underscore && c == '_';
}

int
sd_hostname_normalize(const char *in, char *out, size_t outlen,
    int allow_underscore)
{
	size_t n, i, label = 0;

	if (in == NULL || out == NULL)
		return -1;
	n = strlen(in);
	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || n + 1 > outlen)
		return -1;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)in[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c == '.') {
			if (label == 0 || out[i - 1] == '-')
				return -1;
			label = 0;
		} else {
			if (!label_char(c, allow_underscore))
				return -1;
			if (label == 0 && c == '-')
				return -1;
			if (++label > 63)
				return -1;
		}
		out[i] = (char)c;
	}
	if (out[n - 1] == '-' || out[n - 1] == '.')
		return -1;	/* "a.." leaves an empty last label */
	out[n] = '\0';
	return 0;
}

int
sd_is_ip_literal(const char *s)
{
	unsigned char buf[16];
	char tmp[64];
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		if (n - 2 >= sizeof(tmp))
			return 0;
		memcpy(tmp, s + 1, n - 2);
		tmp[n - 2] = '\0';
		s = tmp;
	}
	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

/*
 * CRC-32 (IEEE 802.3, reflected), four bits at a time: a check against
 * torn or scribbled cache records, not a defence against forgery.
 */
uint32_t
sd_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
	static const uint32_t tab[16] = {
		0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
		0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
		0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
		0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c
	};
	size_t i;

	crc = ~crc;
	for (i = 0; i < n; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ tab[crc & 0xf];
		crc = (crc >> 4) ^ tab[crc & 0xf];
	}
	return ~crc;
}
