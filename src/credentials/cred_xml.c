/*
 * credentials/cred_xml.c - the STS XML documents (see cred_parse.h), read with libxml2: the
 * AssumeRoleResponse and AssumeRoleWithWebIdentityResponse success bodies (Credentials,
 * AssumedRoleUser/Arn for the account id) and the ErrorResponse body ("Code: Message"). The only
 * file of the SDK that includes libxml2 (tests/lint/check_layers.sh).
 *
 * Hostile input is assumed: at most MQTT5_CRED_MAX_DOCUMENT bytes; xmlReadMemory with
 * XML_PARSE_NONET (no network), without XML_PARSE_NOENT (entities are never substituted),
 * without XML_PARSE_DTDLOAD/DTDATTR/DTDVALID (no external subset is loaded; these options reset
 * the parser's entity/DTD settings whatever libxml2's process-wide defaults are), without
 * XML_PARSE_HUGE (libxml2's depth and size limits stay), silent (NOERROR, NOWARNING); and any
 * document with a DOCTYPE at all is refused, since STS never sends one. Elements are matched by
 * local name whatever their namespace.
 *
 * Secrets: before xmlFreeDoc every text and CDATA node of a parsed document is wiped
 * (XML_PARSE_NODICT keeps text out of the shared dictionary, so each node owns its buffer).
 * What cannot be wiped from here, and why: libxml2 copies the input into its own parser buffer
 * and frees that without wiping; text that arrives in several chunks is grown with realloc,
 * which leaves the older copies behind; and a document that is not well-formed is freed inside
 * xmlReadMemory before we see it. The same bytes also sit in the caller's response buffer; the
 * wipe here only keeps the parsed tree from adding long-lived copies. Avoiding libxml2's copies
 * would need its lower-level static-input API and is not done.
 *
 * No I/O; depends only on libxml2, libc and src/common.
 */
#include <string.h>
#include <threads.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "credentials/cred_parse.h"
#include "mqtt5/error.h"

#define XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NODICT)

/* libxml2 2.9 wants xmlInitParser() once before threads parse concurrently. */
static once_flag xml_once = ONCE_FLAG_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

/* ---- the document -----------------------------------------------------------------------------
 */

static void wipe_nodes(const xmlDoc *doc, xmlNode *node)
{
    /* libxml2 caps element depth (256 without XML_PARSE_HUGE), so recursion is bounded */
    for (; node != NULL; node = node->next) {
        if ((node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) &&
            node->content != NULL && node->content != (xmlChar *)&node->properties &&
            !(doc->dict != NULL && xmlDictOwns(doc->dict, node->content)))
            mqtt5_wipe(node->content, strlen((const char *)node->content));
        if (node->type == XML_ELEMENT_NODE) wipe_nodes(doc, node->children);
    }
}

static void free_doc(xmlDoc *doc)
{
    if (doc == NULL) return;
    wipe_nodes(doc, doc->children);
    xmlFreeDoc(doc);
}

/* Parse exactly text[0..len); the root element, or NULL with *rc and err set. */
static xmlNode *read_doc(const char *text, size_t len, const char *what, xmlDoc **doc_out, int *rc,
                         char *err, size_t err_cap)
{
    *doc_out = NULL;
    *rc = MQTT5_ERR_MALFORMED;
    if (text == NULL || len == 0) {
        mqtt5_cred_errf(err, err_cap, "%s: empty document", what);
        return NULL;
    }
    if (len > MQTT5_CRED_MAX_DOCUMENT) {
        mqtt5_cred_errf(err, err_cap, "%s: document larger than %u bytes", what,
                        MQTT5_CRED_MAX_DOCUMENT);
        return NULL;
    }
    call_once(&xml_once, xml_init);
    xmlResetLastError();
    xmlDoc *doc = xmlReadMemory(text, (int)len, NULL, NULL, XML_OPTIONS);
    if (doc == NULL) {
        /* libxml2's own message may quote the document: only its code and line are given */
        const xmlError *e = xmlGetLastError();
        if (e != NULL && e->code == XML_ERR_NO_MEMORY) {
            mqtt5_cred_errf(err, err_cap, "out of memory");
            *rc = MQTT5_ERR_NOMEM;
        } else if (e != NULL) {
            mqtt5_cred_errf(err, err_cap, "%s: not well-formed XML (libxml2 error %d, line %d)",
                            what, e->code, e->line);
        } else {
            mqtt5_cred_errf(err, err_cap, "%s: not well-formed XML", what);
        }
        return NULL;
    }
    if (doc->intSubset != NULL || doc->extSubset != NULL) {
        mqtt5_cred_errf(err, err_cap, "%s: a DOCTYPE is not allowed", what);
        free_doc(doc);
        return NULL;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    if (root == NULL) {
        mqtt5_cred_errf(err, err_cap, "%s: no root element", what);
        free_doc(doc);
        return NULL;
    }
    *doc_out = doc;
    *rc = 0;
    return root;
}

static bool named(const xmlNode *node, const char *local)
{
    return node != NULL && node->type == XML_ELEMENT_NODE && node->name != NULL &&
           strcmp((const char *)node->name, local) == 0;
}

/* The first child element of parent with that local name (any namespace). */
static const xmlNode *child(const xmlNode *parent, const char *local)
{
    if (parent == NULL) return NULL;
    for (const xmlNode *c = parent->children; c != NULL; c = c->next)
        if (named(c, local)) return c;
    return NULL;
}

static bool is_text(const xmlNode *n)
{
    return (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content != NULL;
}

static bool is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_xml_space((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_xml_space((*s)[*n - 1]))
        (*n)--;
}

/* The text of element `el` (its text and CDATA children, whitespace-trimmed) copied into *out
 * through mqtt5_cred_copy_value. `el` NULL counts as empty. */
static int element_text(const mqtt5_allocator *alloc, const xmlNode *el, bool required,
                        const char *field, char **out, char *err, size_t err_cap)
{
    size_t total = 0, parts = 0;
    const char *single = "";
    *out = NULL;
    if (el == NULL) {
        if (!required) return 0;
        mqtt5_cred_errf(err, err_cap, "missing %s", field);
        return MQTT5_ERR_MALFORMED;
    }
    for (const xmlNode *c = el->children; c != NULL; c = c->next) {
        if (!is_text(c)) continue;
        single = (const char *)c->content;
        total += strlen(single); /* bounded by the 1 MiB document */
        parts++;
    }
    if (parts <= 1) { /* the usual case: one text node, read in place */
        size_t n = total;
        trim(&single, &n);
        return mqtt5_cred_copy_value(alloc, single, n, required, field, out, err, err_cap);
    }
    /* split by comments or CDATA sections: join into a scratch buffer, wiped after */
    const mqtt5_allocator *a = alloc ? alloc : mqtt5_allocator_libc();
    char *joined = a->allocate(a->ctx, total + 1);
    if (joined == NULL) {
        mqtt5_cred_errf(err, err_cap, "out of memory");
        return MQTT5_ERR_NOMEM;
    }
    size_t at = 0;
    for (const xmlNode *c = el->children; c != NULL; c = c->next) {
        if (!is_text(c)) continue;
        size_t n = strlen((const char *)c->content);
        memcpy(joined + at, c->content, n);
        at += n;
    }
    joined[at] = '\0';
    const char *s = joined;
    size_t n = at;
    trim(&s, &n);
    int rc = mqtt5_cred_copy_value(alloc, s, n, required, field, out, err, err_cap);
    mqtt5_wipe(joined, total + 1);
    a->release(a->ctx, joined, total + 1);
    return rc;
}

/* The trimmed text of `el` into buf (truncated), for error reports. */
static void element_text_into(const xmlNode *el, char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = '\0';
    if (el == NULL) return;
    for (const xmlNode *c = el->children; c != NULL && at + 1 < cap; c = c->next) {
        if (!is_text(c)) continue;
        size_t n = strlen((const char *)c->content);
        if (n > cap - 1 - at) n = cap - 1 - at;
        memcpy(buf + at, c->content, n);
        at += n;
    }
    buf[at] = '\0';
    const char *s = buf;
    size_t n = at;
    trim(&s, &n);
    memmove(buf, s, n);
    buf[n] = '\0';
}

/* ---- ErrorResponse ----------------------------------------------------------------------------
 */

/* "Code: Message" of an <ErrorResponse><Error>...</Error></ErrorResponse> (or a bare <Error>)
 * into err; 0, or MQTT5_ERR_MALFORMED if root is not one. */
static int format_sts_error(const xmlNode *root, char *err, size_t err_cap)
{
    const xmlNode *e = named(root, "ErrorResponse") ? child(root, "Error")
                       : named(root, "Error")       ? root
                                                    : NULL;
    if (e == NULL) return MQTT5_ERR_MALFORMED;
    char code[128], message[512];
    element_text_into(child(e, "Code"), code, sizeof code);
    if (code[0] == '\0') return MQTT5_ERR_MALFORMED;
    element_text_into(child(e, "Message"), message, sizeof message);
    if (message[0] != '\0')
        mqtt5_cred_errf(err, err_cap, "%s: %s", code, message);
    else
        mqtt5_cred_errf(err, err_cap, "%s", code);
    return 0;
}

int mqtt5_cred_parse_sts_error_xml(const char *text, size_t len, char *err, size_t err_cap)
{
    int rc;
    xmlDoc *doc;
    xmlNode *root = read_doc(text, len, "STS error response", &doc, &rc, err, err_cap);
    if (root == NULL) return rc;
    rc = format_sts_error(root, err, err_cap);
    if (rc != 0) mqtt5_cred_errf(err, err_cap, "STS error response: no ErrorResponse/Error/Code");
    free_doc(doc);
    return rc;
}

/* ---- AssumeRole / AssumeRoleWithWebIdentity ---------------------------------------------------
 */

int mqtt5_cred_parse_sts_xml(const mqtt5_allocator *alloc, const char *text, size_t len,
                             mqtt5_parsed_credentials *out, char *err, size_t err_cap)
{
    int rc;
    xmlDoc *doc;
    memset(out, 0, sizeof(*out));
    out->expiration = MQTT5_CREDENTIALS_NO_EXPIRY;
    xmlNode *root = read_doc(text, len, "STS response", &doc, &rc, err, err_cap);
    if (root == NULL) return rc;

    const xmlNode *result = child(root, "AssumeRoleResult");
    if (result == NULL) result = child(root, "AssumeRoleWithWebIdentityResult");
    if (result == NULL) {
        char reason[512];
        if (format_sts_error(root, reason, sizeof reason) == 0)
            mqtt5_cred_errf(err, err_cap, "STS error: %s", reason);
        else
            mqtt5_cred_errf(err, err_cap,
                            "STS response: no AssumeRoleResult or "
                            "AssumeRoleWithWebIdentityResult element");
        free_doc(doc);
        return MQTT5_ERR_MALFORMED;
    }
    const xmlNode *creds = child(result, "Credentials");
    char *expiration = NULL;
    if (creds == NULL) {
        mqtt5_cred_errf(err, err_cap, "STS response: missing Credentials");
        rc = MQTT5_ERR_MALFORMED;
    }
    if (rc == 0)
        rc = element_text(alloc, child(creds, "AccessKeyId"), true, "Credentials/AccessKeyId",
                          &out->access_key_id, err, err_cap);
    if (rc == 0)
        rc = element_text(alloc, child(creds, "SecretAccessKey"), true,
                          "Credentials/SecretAccessKey", &out->secret_access_key, err, err_cap);
    if (rc == 0)
        rc = element_text(alloc, child(creds, "SessionToken"), true, "Credentials/SessionToken",
                          &out->session_token, err, err_cap);
    if (rc == 0)
        rc = element_text(alloc, child(creds, "Expiration"), true, "Credentials/Expiration",
                          &expiration, err, err_cap);
    if (rc == 0 && mqtt5_cred_parse_iso8601(expiration, &out->expiration) != 0) {
        out->expiration = MQTT5_CREDENTIALS_NO_EXPIRY;
        mqtt5_cred_errf(err, err_cap, "Credentials/Expiration is not an ISO 8601 date-time");
        rc = MQTT5_ERR_MALFORMED;
    }
    if (expiration != NULL) {
        const mqtt5_allocator *a = alloc ? alloc : mqtt5_allocator_libc();
        size_t n = strlen(expiration) + 1;
        mqtt5_wipe(expiration, n); /* not a secret; every string here is wiped alike */
        a->release(a->ctx, expiration, n);
    }
    if (rc == 0) {
        /* the account id is a convenience: an absent or odd ARN leaves it NULL */
        char arn[2048], account[32];
        element_text_into(child(child(result, "AssumedRoleUser"), "Arn"), arn, sizeof arn);
        if (mqtt5_cred_account_from_arn(arn, account, sizeof account) == 0)
            rc = mqtt5_cred_copy_value(alloc, account, strlen(account), false, "account id",
                                       &out->account_id, err, err_cap);
    }
    free_doc(doc);
    if (rc != 0) mqtt5_parsed_credentials_clear(alloc, out);
    return rc;
}
