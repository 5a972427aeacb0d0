/*
 * transports/filter.c - what every transport filter shares: the first-error latch (error code
 * plus a one-line detail, allocated only when an error is kept), reporting a close or bytes read
 * to the filter above, and passing the read low-water hint down to the filter that owns the socket.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transports/filter.h"

void mqtt5_filter_error_set(mqtt5_filter_error *e, int err, const char *detail)
{
    mqtt5_filter_error_setf(e, err, detail ? "%s" : NULL, detail);
}

static void vset(mqtt5_filter_error *e, int err, const char *fmt, va_list ap)
{
    char d[256] = ""; /* formatted before the old detail goes: the arguments may point into it */
    if (fmt) vsnprintf(d, sizeof d, fmt, ap);
    mqtt5_filter_error_free(e);
    e->set = true;
    e->err = err;
    size_t n = strlen(d);
    if (n == 0) return;
    e->detail = malloc(n + 1);
    if (e->detail) memcpy(e->detail, d, n + 1); /* without memory: the code alone */
}

void mqtt5_filter_error_setf(mqtt5_filter_error *e, int err, const char *fmt, ...)
{
    if (e->set) return;
    va_list ap;
    va_start(ap, fmt);
    vset(e, err, fmt, ap);
    va_end(ap);
}

void mqtt5_filter_error_replacef(mqtt5_filter_error *e, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(e, err, fmt, ap);
    va_end(ap);
}

void mqtt5_filter_error_free(mqtt5_filter_error *e)
{
    free(e->detail);
    e->detail = NULL;
}

void mqtt5_filter_report_closed(mqtt5_filter *f, const mqtt5_filter_error *e)
{
    if (f->upper && f->upper->ops->on_closed) f->upper->ops->on_closed(f->upper, e->err, e->detail);
}

void mqtt5_filter_report_read(mqtt5_filter *f, const uint8_t *p, size_t n)
{
    if (n && f->upper && f->upper->ops->on_read) f->upper->ops->on_read(f->upper, p, n);
}

void mqtt5_filter_set_read_low_water(mqtt5_filter *f, uint32_t bytes)
{
    while (f && !f->ops->set_read_low_water)
        f = f->lower;
    if (f) f->ops->set_read_low_water(f, bytes);
}
