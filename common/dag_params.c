/* dag_params — the `params:` of a DAG file: reads each declaration (a
 * plain default, or a type with rules), checks it, and checks the values
 * a run is started with against it (dag_params_resolve). A value is
 * refused before a run exists, with the declaration's FILE:LINE and what
 * is allowed, so that whoever gave it can fix it. */
#include "common/dag_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

static const char *const s_type_names[] = {"string", "int", "float", "bool",
                                           "date"};
#define TYPE_COUNT (sizeof s_type_names / sizeof s_type_names[0])

/* The keys of a declaration written as a mapping. */
static const char *const s_decl_keys[] = {"type", "default", "min",
                                          "max",  "enum",    "pattern"};
#define DECL_KEY_COUNT (sizeof s_decl_keys / sizeof s_decl_keys[0])

/* Why a value is refused, e.g. "below min 1". */
typedef char why_t[320];

/* "an int", "a date": the type as a message names it. */
static const char *
s_a_type(dag_param_type_t type)
{
    static const char *const named[] = {"a string", "an int", "a float",
                                        "a bool", "a date"};
    return named[type];
}

char *
dag_param_env_name(const char *name)
{
    char *env = xasprintf("SLUICE_PARAM_%s", name);
    for (char *p = env + strlen("SLUICE_PARAM_"); *p; p++) {
        *p = isalnum((unsigned char) *p) ? (char) toupper((unsigned char) *p)
                                         : '_';
    }
    return env;
}

const char *
dag_param_type_name(dag_param_type_t type)
{
    return (size_t) type < TYPE_COUNT ? s_type_names[type] : "?";
}

/* ---- values ---- */

/* A value as it may be shown in a message: at most 64 bytes, with control
 * characters, quotes, backslashes and bytes over 0x7e escaped, so that a
 * hostile value cannot forge lines in a log or a terminal. */
static const char *
s_show(const char *value, char *buf, size_t size)
{
    size_t n = 0;
    const unsigned char *c = (const unsigned char *) value;
    for (; *c && n + 8 < size && c - (const unsigned char *) value < 64; c++) {
        if (*c >= 0x20 && *c < 0x7f && *c != '\'' && *c != '\\') {
            buf[n++] = (char) *c;
        } else {
            n += (size_t) snprintf(buf + n, size - n, "\\x%02x", *c);
        }
    }
    if (*c) {
        n += (size_t) snprintf(buf + n, size - n, "...");
    }
    buf[n] = '\0';
    return buf;
}

/* A decimal whole number that fits int64: -?[0-9]+. */
static int
s_int_parse(const char *text, int64_t *out)
{
    const char *digits = text + (*text == '-');
    if (!*digits || strspn(digits, "0123456789") != strlen(digits)) {
        return -1;
    }
    errno = 0;
    long long v = strtoll(text, NULL, 10);
    if (errno == ERANGE) {
        return -2;
    }
    *out = (int64_t) v;
    return 0;
}

/* A finite decimal number: -?(D+(.D*)?|.D+)([eE][+-]?D+)?; no hex, inf
 * or nan, which strtod alone would take. */
static int
s_float_parse(const char *text, double *out)
{
    const char *c = text + (*text == '-');
    size_t whole = strspn(c, "0123456789");
    c += whole;
    size_t frac = 0;
    if (*c == '.') {
        frac = strspn(++c, "0123456789");
        c += frac;
    }
    if (whole + frac == 0) {
        return -1;
    }
    if (*c == 'e' || *c == 'E') {
        c += 1 + (c[1] == '+' || c[1] == '-');
        size_t exp = strspn(c, "0123456789");
        if (exp == 0) {
            return -1;
        }
        c += exp;
    }
    if (*c) {
        return -1;
    }
    *out = strtod(text, NULL);
    return isfinite(*out) ? 0 : -2;
}

/* YYYY-MM-DD, a day that exists (2024-02-29 does, 2023-02-29 does not). */
static int
s_date_check(const char *text)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(text) != 10 || text[4] != '-' || text[7] != '-' ||
        strspn(text, "0123456789") != 4 ||
        strspn(text + 5, "0123456789") != 2 ||
        strspn(text + 8, "0123456789") != 2) {
        return -1;
    }
    int y = atoi(text), m = atoi(text + 5), d = atoi(text + 8);
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || m < 1 || m > 12 || d < 1 ||
        d > days[m - 1] + (m == 2 && leap)) {
        return -2;
    }
    return 0;
}

/* Whether value has the form of type; why says what is wrong when not. */
static bool
s_type_ok(dag_param_type_t type, const char *value, why_t why)
{
    int64_t i;
    double f;
    int rc = 0;
    if (type != DAG_PARAM_STRING && !*value) {
        snprintf(why, sizeof(why_t), "empty, but %s needs a value",
                 s_a_type(type));
        return false;
    }
    switch (type) {
        case DAG_PARAM_STRING:
            return true;
        case DAG_PARAM_INT:
            rc = s_int_parse(value, &i);
            snprintf(why, sizeof(why_t), "%s",
                     rc == -2 ? "out of the range of a 64-bit whole number"
                              : "not a whole number");
            break;
        case DAG_PARAM_FLOAT:
            rc = s_float_parse(value, &f);
            snprintf(why, sizeof(why_t), "%s",
                     rc == -2 ? "out of the range of a number"
                              : "not a decimal number");
            break;
        case DAG_PARAM_BOOL:
            rc = strcmp(value, "true") && strcmp(value, "false") ? -1 : 0;
            snprintf(why, sizeof(why_t), "not true or false");
            break;
        case DAG_PARAM_DATE:
            rc = s_date_check(value);
            snprintf(why, sizeof(why_t), "%s",
                     rc == -2 ? "not a real calendar date"
                              : "not a date written YYYY-MM-DD");
            break;
    }
    return rc == 0;
}

/* Compares two values of a number type (both of its form): <0, 0, >0.
 * Strings, bools and dates compare as text (dates are zero-padded). */
static int
s_cmp(dag_param_type_t type, const char *a, const char *b)
{
    if (type == DAG_PARAM_INT) {
        int64_t x = 0, y = 0;
        s_int_parse(a, &x);
        s_int_parse(b, &y);
        return (x > y) - (x < y);
    }
    if (type == DAG_PARAM_FLOAT) {
        double x = 0, y = 0;
        s_float_parse(a, &x);
        s_float_parse(b, &y);
        return (x > y) - (x < y);
    }
    return strcmp(a, b);
}

/* Whether value matches pattern; -1 when the pattern does not compile
 * (why says why). */
static int
s_match(const char *pattern, const char *value, why_t why)
{
    regex_t re;
    int rc = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[160];
        regerror(rc, &re, msg, sizeof msg);
        snprintf(why, sizeof(why_t), "%s", msg);
        return -1;
    }
    rc = regexec(&re, value, 0, NULL, 0);
    regfree(&re);
    return rc == 0;
}

/* The list of allowed values, "a, b, c", cut short when long. */
static void
s_enum_list(const dag_param_t *param, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; i < param->nenum; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                 param->enums[i]);
    }
}

/* Whether value keeps every rule of param (its type first); why says which
 * one it breaks. */
static bool
s_rules_ok(const dag_param_t *param, const char *value, why_t why)
{
    if (!s_type_ok(param->type, value, why)) {
        return false;
    }
    if (param->min && s_cmp(param->type, value, param->min) < 0) {
        snprintf(why, sizeof(why_t), "below min %s", param->min);
        return false;
    }
    if (param->max && s_cmp(param->type, value, param->max) > 0) {
        snprintf(why, sizeof(why_t), "above max %s", param->max);
        return false;
    }
    bool listed = param->nenum == 0;
    for (size_t i = 0; i < param->nenum && !listed; i++) {
        listed = s_cmp(param->type, value, param->enums[i]) == 0;
    }
    if (!listed) {
        char list[200];
        s_enum_list(param, list, sizeof list);
        snprintf(why, sizeof(why_t), "not one of %s", list);
        return false;
    }
    if (param->pattern && s_match(param->pattern, value, why) != 1) {
        snprintf(why, sizeof(why_t), "does not match pattern '%s'",
                 param->pattern);
        return false;
    }
    return true;
}

/* How to give a good value: "give --param limit=N with 1 <= N <= 10". */
static void
s_hint(const dag_param_t *param, char *buf, size_t size)
{
    const char *n = param->name;
    char list[200];
    const char *v = param->type == DAG_PARAM_INT ? "N" : "X";
    if (param->nenum) {
        s_enum_list(param, list, sizeof list);
        snprintf(buf, size, "give --param %s=VALUE with VALUE one of %s", n,
                 list);
    } else if (param->type == DAG_PARAM_BOOL) {
        snprintf(buf, size, "give --param %s=true or --param %s=false", n, n);
    } else if (param->type == DAG_PARAM_DATE) {
        snprintf(buf, size, "give --param %s=YYYY-MM-DD", n);
    } else if (param->type == DAG_PARAM_STRING) {
        snprintf(buf, size, "give --param %s=VALUE%s%s%s", n,
                 param->pattern ? " matching '" : "",
                 param->pattern ? param->pattern : "",
                 param->pattern ? "'" : "");
    } else if (param->min && param->max) {
        snprintf(buf, size, "give --param %s=%s with %s <= %s <= %s", n, v,
                 param->min, v, param->max);
    } else if (param->min || param->max) {
        snprintf(
            buf, size, "give --param %s=%s with %s %s %s", n, v, v,
            param->min ? ">=" : "<=", param->min ? param->min : param->max);
    } else {
        snprintf(buf, size, "give --param %s=%s, a %s", n, v,
                 param->type == DAG_PARAM_INT ? "whole number"
                                              : "decimal number");
    }
}

/* ---- resolving a run's values ---- */

static int
s_refuse(const dag_t *self,
         const dag_param_t *param,
         const char *value,
         const char *why,
         errbuf_t *err)
{
    char shown[300], hint[512];
    s_hint(param, hint, sizeof hint);
    if (!value) {
        errbuf_set(err,
                   "param '%s' is required and has no default (declared at "
                   "%s:%zu); %s",
                   param->name, self->file, param->line, hint);
    } else {
        errbuf_set(err, "param '%s' = '%s': %s (declared at %s:%zu); %s",
                   param->name, s_show(value, shown, sizeof shown), why,
                   self->file, param->line, hint);
    }
    return -1;
}

int
dag_params_resolve(const dag_t *self,
                   const dag_kv_t *given,
                   size_t ngiven,
                   dag_kv_t *out,
                   errbuf_t *err)
{
    for (size_t i = 0; i < self->nparams; i++) {
        out[i].name = self->params[i].name;
        out[i].value = self->params[i].required ? NULL : self->params[i].value;
    }
    for (size_t j = 0; j < ngiven; j++) {
        size_t i = 0;
        while (i < self->nparams && strcmp(out[i].name, given[j].name)) {
            i++;
        }
        if (i == self->nparams) {
            char shown[300];
            s_show(given[j].name, shown, sizeof shown);
            errbuf_set(err,
                       "DAG '%s' has no param '%s'; declare it under "
                       "'params:' in %s or drop --param %s",
                       self->name, shown, self->file, shown);
            return -1;
        }
        out[i].value = given[j].value;
    }
    for (size_t i = 0; i < self->nparams; i++) {
        why_t why;
        if (!out[i].value || !s_rules_ok(&self->params[i], out[i].value, why)) {
            return s_refuse(self, &self->params[i], out[i].value, why, err);
        }
    }
    return 0;
}

/* ---- reading declarations ---- */

/* A param's name becomes SLUICE_PARAM_<NAME> in a task's environment. */
static bool
s_param_name_ok(const char *name)
{
    bool ok = (isalpha((unsigned char) *name) || *name == '_') &&
              strlen(name) <= DAG_NAME_MAX;
    for (const char *c = name; ok && *c; c++) {
        ok = isalnum((unsigned char) *c) || *c == '_';
    }
    return ok;
}

/* The nodes of a declaration written as a mapping; NULL where not set. */
typedef struct {
    const yamldoc_node_t *at[DECL_KEY_COUNT];
} decl_t;

enum {
    K_TYPE,
    K_DEFAULT,
    K_MIN,
    K_MAX,
    K_ENUM,
    K_PATTERN
};

/* Sorts the mapping's keys into decl; reports unknown and repeated ones. */
static void
s_decl_keys_read(parse_t *p,
                 const char *name,
                 const yamldoc_node_t *map,
                 decl_t *decl)
{
    memset(decl, 0, sizeof *decl);
    for (size_t i = 0; i < map->count; i++) {
        const yamldoc_node_t *k = map->items[2 * i];
        size_t key = 0;
        while (k->type == YAMLDOC_SCALAR && key < DECL_KEY_COUNT &&
               strcmp(k->value, s_decl_keys[key])) {
            key++;
        }
        if (k->type != YAMLDOC_SCALAR || key == DECL_KEY_COUNT) {
            const char *hint =
                k->type == YAMLDOC_SCALAR
                    ? yamldoc_suggest(k->value, s_decl_keys, DECL_KEY_COUNT)
                    : NULL;
            dagp_err(p, k, "unknown key %s%s%s in param '%s'; %s%s%s",
                     k->type == YAMLDOC_SCALAR ? "'" : "",
                     k->type == YAMLDOC_SCALAR ? k->value : "",
                     k->type == YAMLDOC_SCALAR ? "'" : "", name,
                     hint ? "did you mean '"
                          : "valid keys are type, "
                            "default, min, max, enum and "
                            "pattern",
                     hint ? hint : "", hint ? "'?" : "");
        } else if (decl->at[key]) {
            dagp_err(p, k,
                     "key '%s' in param '%s' is repeated (first on line %zu); "
                     "keep one",
                     k->value, name, decl->at[key]->line);
        } else {
            decl->at[key] = map->items[2 * i + 1];
        }
    }
}

/* A single value in a declaration ("'default' of param 'x'"); NULL (and
 * reported) when it is a list, a mapping or empty. */
static const char *
s_decl_scalar(parse_t *p,
              const yamldoc_node_t *val,
              const char *key,
              const char *name)
{
    if (val->type != YAMLDOC_SCALAR || yamldoc_is_null(val)) {
        dagp_err(p, val,
                 "'%s' of param '%s' must be a single value, not %s; write "
                 "it like '%s: 10'",
                 key, name, yamldoc_type_name(val), key);
        return NULL;
    }
    return val->value;
}

static void
s_decl_type(parse_t *p, const decl_t *decl, dag_param_t *param)
{
    const yamldoc_node_t *val = decl->at[K_TYPE];
    const char *type = val ? s_decl_scalar(p, val, "type", param->name) : NULL;
    for (size_t t = 0; type && t < TYPE_COUNT; t++) {
        if (!strcmp(type, s_type_names[t])) {
            param->type = (dag_param_type_t) t;
            return;
        }
    }
    if (type) {
        const char *hint = yamldoc_suggest(type, s_type_names, TYPE_COUNT);
        dagp_err(p, val,
                 "param '%s' has unknown type '%s'; %s%s%suse string, int, "
                 "float, bool or date",
                 param->name, type, hint ? "did you mean '" : "",
                 hint ? hint : "", hint ? "'? " : "");
    }
}

/* min and max: numbers of the param's type, min <= max. */
static void
s_decl_bounds(parse_t *p, const decl_t *decl, dag_param_t *param)
{
    const char **bound[] = {&param->min, &param->max};
    for (size_t b = 0; b < 2; b++) {
        const yamldoc_node_t *val = decl->at[K_MIN + b];
        const char *key = b ? "max" : "min";
        const char *text = val ? s_decl_scalar(p, val, key, param->name) : NULL;
        why_t why;
        if (!text) {
            continue;
        }
        if (param->type != DAG_PARAM_INT && param->type != DAG_PARAM_FLOAT) {
            dagp_err(p, val,
                     "'%s' applies to int and float params, and param '%s' "
                     "is %s; remove it or declare 'type: int'",
                     key, param->name, s_a_type(param->type));
        } else if (!s_type_ok(param->type, text, why)) {
            dagp_err(p, val, "'%s' of param '%s' is %s; write %s", key,
                     param->name, why, s_a_type(param->type));
        } else {
            *bound[b] = xstrdup(text);
        }
    }
    if (param->min && param->max &&
        s_cmp(param->type, param->min, param->max) > 0) {
        dagp_err(p, decl->at[K_MAX],
                 "param '%s' has max %s below its min %s; swap them",
                 param->name, param->max, param->min);
    }
}

static void
s_decl_pattern(parse_t *p, const decl_t *decl, dag_param_t *param)
{
    const yamldoc_node_t *val = decl->at[K_PATTERN];
    const char *text =
        val ? s_decl_scalar(p, val, "pattern", param->name) : NULL;
    why_t why;
    if (!text) {
        return;
    }
    if (param->type != DAG_PARAM_STRING) {
        dagp_err(p, val,
                 "'pattern' applies to string params, and param '%s' is "
                 "%s; remove it (the type already fixes the form)",
                 param->name, s_a_type(param->type));
    } else if (s_match(text, "", why) < 0) {
        dagp_err(p, val,
                 "'pattern' of param '%s' is not a POSIX extended regular "
                 "expression (%s); fix it, e.g. '^[a-z0-9_-]+$'",
                 param->name, why);
    } else {
        param->pattern = xstrdup(text);
    }
}

/* enum: a list of values of the param's type. */
static void
s_decl_enum(parse_t *p, const decl_t *decl, dag_param_t *param)
{
    const yamldoc_node_t *val = decl->at[K_ENUM];
    if (!val) {
        return;
    }
    if (val->type != YAMLDOC_SEQ || val->count == 0) {
        dagp_err(p, val,
                 "'enum' of param '%s' must be a list of the values allowed, "
                 "not %s; write it like 'enum: [full, delta]'",
                 param->name,
                 val->type == YAMLDOC_SEQ ? "an empty list"
                                          : yamldoc_type_name(val));
        return;
    }
    char **list = xcalloc(val->count + 1, sizeof *list);
    size_t n = 0;
    for (size_t i = 0; i < val->count; i++) {
        const char *text = s_decl_scalar(p, val->items[i], "enum", param->name);
        why_t why;
        if (text && !s_type_ok(param->type, text, why)) {
            dagp_err(p, val->items[i],
                     "'enum' of param '%s' lists '%s', which is %s; list "
                     "%s values only",
                     param->name, text, why, s_type_names[param->type]);
        } else if (text) {
            list[n++] = xstrdup(text);
        }
    }
    param->enums = (const char *const *) list;
    param->nenum = n;
}

/* name: {type: .., default: .., min: .., max: .., enum: [..], pattern:
 * ..}: the default must keep the rules; none makes the param required. */
static void
s_decl_map(parse_t *p, const yamldoc_node_t *map, dag_param_t *param)
{
    decl_t decl;
    s_decl_keys_read(p, param->name, map, &decl);
    s_decl_type(p, &decl, param);
    s_decl_bounds(p, &decl, param);
    s_decl_pattern(p, &decl, param);
    s_decl_enum(p, &decl, param);
    const yamldoc_node_t *def = decl.at[K_DEFAULT];
    const char *text =
        def ? s_decl_scalar(p, def, "default", param->name) : NULL;
    why_t why;
    param->required = !def;
    param->value = xstrdup(text ? text : "");
    if (text && !s_rules_ok(param, text, why)) {
        char shown[300];
        dagp_err(p, def,
                 "the default '%s' of param '%s' is %s; change the default "
                 "or the rules",
                 s_show(text, shown, sizeof shown), param->name, why);
    }
}

/* One `name: ...` line; false when it declares nothing. */
static bool
s_decl(parse_t *p,
       const yamldoc_node_t *k,
       const yamldoc_node_t *v,
       dag_param_t *param)
{
    if (k->type != YAMLDOC_SCALAR || !s_param_name_ok(k->value)) {
        dagp_err(p, k,
                 "param name %s%.128s%s may only use letters, digits and '_', "
                 "not starting with a digit (at most %d bytes), since it is "
                 "also the environment variable SLUICE_PARAM_<NAME>; rename "
                 "it",
                 k->type == YAMLDOC_SCALAR ? "'" : "",
                 k->type == YAMLDOC_SCALAR ? k->value : "",
                 k->type == YAMLDOC_SCALAR ? "'" : "", DAG_NAME_MAX);
        return false;
    }
    for (size_t i = 0; i < p->dag->nparams; i++) {
        if (!strcmp(p->dag->params[i].name, k->value)) {
            dagp_err(p, k,
                     "param '%s' is declared twice (first on line %zu); keep "
                     "one",
                     k->value, p->dag->params[i].line);
            return false;
        }
    }
    memset(param, 0, sizeof *param);
    param->name = xstrdup(k->value);
    param->line = k->line;
    param->col = k->col;
    if (v->type == YAMLDOC_MAP) {
        s_decl_map(p, v, param);
        return true;
    }
    if (v->type != YAMLDOC_SCALAR) {
        dagp_err(p, v,
                 "param '%s' must be a default value or a mapping like "
                 "'{type: int, default: 10}', not %s",
                 k->value, yamldoc_type_name(v));
    }
    param->value = xstrdup(
        v->type == YAMLDOC_SCALAR && !yamldoc_is_null(v) ? v->value : "");
    return true;
}

void
dagp_read_params(parse_t *p, const yamldoc_node_t *val)
{
    if (yamldoc_is_null(val)) {
        return;
    }
    if (val->type != YAMLDOC_MAP) {
        dagp_err(p, val,
                 "'params' must be a mapping, not %s; write 'name: "
                 "default' lines under it",
                 yamldoc_type_name(val));
        return;
    }
    dag_t *dag = p->dag;
    dagp_free_params(dag);
    dag->params = xcalloc(val->count + 1, sizeof *dag->params);
    for (size_t i = 0; i < val->count; i++) {
        if (s_decl(p, val->items[2 * i], val->items[2 * i + 1],
                   &dag->params[dag->nparams])) {
            dag->nparams++;
        }
    }
}

void
dagp_check_params(parse_t *p)
{
    const dag_t *dag = p->dag;
    if (!*dag->schedule && dag->ntriggers == 0) {
        return;
    }
    for (size_t i = 0; i < dag->nparams; i++) {
        if (dag->params[i].required) {
            dagp_err_pos(p, dag->params[i].line, dag->params[i].col,
                         "param '%s' has no default, but the DAG's %s starts "
                         "runs that give no params; add a 'default'",
                         dag->params[i].name,
                         *dag->schedule ? "'schedule'" : "'trigger'");
        }
    }
}

void
dagp_free_params(dag_t *dag)
{
    for (size_t i = 0; i < dag->nparams; i++) {
        dag_param_t *param = &dag->params[i];
        free((void *) param->name);
        free((void *) param->value);
        free((void *) param->min);
        free((void *) param->max);
        free((void *) param->pattern);
        dagp_free_strings(param->enums, param->nenum);
    }
    free(dag->params);
    dag->params = NULL;
    dag->nparams = 0;
}
