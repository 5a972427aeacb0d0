/*
 * transports/filter.c - what every transport filter shares: the first-error latch (error code
 * plus a one-line detail) and reporting a close to the filter above.
 */
#include <stdarg.h>
#include <stdio.h>

#include "transports/filter.h"

void mqtt5_filter_error_set(mqtt5_filter_error *e, int err, const char *detail)
{
    mqtt5_filter_error_setf(e, err, detail ? "%s" : NULL, detail);
}

static void vset(mqtt5_filter_error *e, int err, const char *fmt, va_list ap)
{
    e->set = true;
    e->err = err;
    e->detail[0] = '\0';
    if (fmt) vsnprintf(e->detail, sizeof e->detail, fmt, ap);
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

void mqtt5_filter_report_closed(mqtt5_filter *f, const mqtt5_filter_error *e)
{
    if (f->upper && f->upper->ops->on_closed)
        f->upper->ops->on_closed(f->upper, e->err, e->detail[0] ? e->detail : NULL);
}
