/* Kind shell: a command run with /bin/sh -c (or exec'ed directly when no
 * shell is needed), with its own environment and working directory. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/kinds/kind.h"

struct shell_spec {
	char *command;    /* template text */
	struct strv env;  /* "KEY=template" */
	char *cwd;        /* relative to the project root; NULL = the root */
};

static const struct kind_key shell_keys[] = {
	{.name = "command", .type = KEY_TEMPLATE, .field = offsetof(struct shell_spec, command), .required = true},
	{.name = "env", .type = KEY_ENV, .field = offsetof(struct shell_spec, env)},
	{.name = "cwd", .type = KEY_STRING, .field = offsetof(struct shell_spec, cwd)},
};

static void shell_parse(const struct kind_parse *p, void *spec)
{
	const struct shell_spec *s = spec;
	if (s->cwd && s->cwd[0] == '/')
		diags_add(p->r->d, yr_at_value(p->r, p->task, "cwd"), "'cwd' must be relative to the project root");
}

static int shell_build(const void *spec, const struct kind_build *b, json_t *out, struct err *err)
{
	const struct shell_spec *s = spec;
	char *text;
	if (kind_render(b, s->command, "command", &text, err) < 0)
		return err_code(err);
	json_object_set_new(out, "command", json_string(text));
	free(text);
	json_t *env = json_object();
	for (size_t i = 0; i < s->env.n; i++) {
		const char *eq = strchr(s->env.v[i], '=');
		if (!eq)
			continue;
		if (kind_render(b, eq + 1, "env", &text, err) < 0) {
			json_decref(env);
			return err_code(err);
		}
		char *k = xstrndup(s->env.v[i], (size_t)(eq - s->env.v[i]));
		json_object_set_new(env, k, json_string(text));
		free(k);
		free(text);
	}
	json_object_set_new(out, "env", env);
	if (s->cwd)
		json_object_set_new(out, "cwd", json_string(s->cwd));
	return 0;
}

static void shell_describe(const json_t *spec, struct strbuf *out)
{
	const char *cmd = json_string_value(json_object_get(spec, "command"));
	const char *cwd = json_string_value(json_object_get(spec, "cwd"));
	sb_adds(out, "$ ");
	sb_adds(out, cmd ? cmd : "");
	if (cwd)
		sb_addf(out, "   (in %s)", cwd);
}

/* The program a simple command's first word names: a path with a '/'
 * (relative to dir), else the first executable on path. NULL if none. */
static char *find_program(const char *word, const char *path, const char *dir)
{
	if (strchr(word, '/')) {
		/* exec'ed as written, from dir */
		char *full = word[0] == '/' ? xstrdup(word) : path_join(dir, word);
		bool ok = access(full, X_OK) == 0;
		free(full);
		return ok ? xstrdup(word) : NULL;
	}
	char *dirs = xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin"), *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *in = d[0] == '/' ? xstrdup(d) : path_join(dir, d);
		char *full = path_join(in, word);
		free(in);
		if (access(full, X_OK) == 0) {
			free(dirs);
			return full;
		}
		free(full);
	}
	free(dirs);
	return NULL;
}

/* A command with nothing for a shell to do (no quotes, variables,
 * redirections, globs) whose first word is a program is run directly: one
 * exec fewer. Builtins (exit, cd, export...) are not files, so they still go
 * through the shell. Fills argv and path; false if the shell is needed. */
static bool simple_command(const char *cmd, const char *path, const char *dir, struct task_exec *x)
{
	if (!*cmd || strspn(cmd, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+- ") != strlen(cmd))
		return false;
	char *copy = xstrdup(cmd), *save = NULL, *words[64];
	int n = 0;
	for (char *t = strtok_r(copy, " ", &save); t && n < 63; t = strtok_r(NULL, " ", &save))
		words[n++] = t;
	char *prog = n && n < 63 && !strchr(words[0], '=') ? find_program(words[0], path, dir) : NULL;
	if (prog) {
		x->path = prog;
		x->argv = xcalloc((size_t)n + 1, sizeof *x->argv);
		for (int i = 0; i < n; i++)
			x->argv[i] = xstrdup(words[i]);
	}
	free(copy);
	return prog != NULL;
}

/* What a shell task execs: its command's program, or /bin/sh -c command,
 * in its cwd with its env. */
static int shell_exec(const json_t *spec, const struct task_env *env, struct task_exec *x, struct err *err)
{
	(void)err;
	memset(x, 0, sizeof *x);
	const char *cwd = json_string_value(json_object_get(spec, "cwd"));
	if (cwd)
		x->dir = path_join(env->root, cwd);
	const json_t *vars = json_object_get(spec, "env");
	const char *path = getenv("PATH");
	x->env = xcalloc(json_object_size(vars) + 1, sizeof *x->env);
	size_t n = 0;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)vars, k, v) {
		const char *val = json_string_value(v) ? json_string_value(v) : "";
		x->env[n++] = xasprintf("%s=%s", k, val);
		if (!strcmp(k, "PATH"))
			path = val;
	}
	const char *cmd = json_string_value(json_object_get(spec, "command"));
	if (!cmd)
		cmd = "";
	if (simple_command(cmd, path, x->dir ? x->dir : env->root, x))
		return 0;
	x->path = xstrdup("/bin/sh");
	x->argv = xcalloc(4, sizeof *x->argv);
	x->argv[0] = xstrdup("sh");
	x->argv[1] = xstrdup("-c");
	x->argv[2] = xstrdup(cmd);
	return 0;
}

/* The same exec in a forked child (what taskexec_start does when the kind
 * has no exec op). */
static int shell_run(const json_t *spec, const struct task_env *env)
{
	struct task_exec x;
	struct err e = {0};
	shell_exec(spec, env, &x, &e);
	if (x.dir && chdir(x.dir) < 0) {
		fprintf(stderr, "cannot enter %s: %s\n", x.dir, strerror(errno));
		return 126;
	}
	for (char **p = x.env; *p; p++)
		putenv(*p);
	execv(x.path, x.argv);
	if (!strcmp(x.path, "/bin/sh")) {
		fprintf(stderr, "exec /bin/sh: %s\n", strerror(errno));
		return 127;
	}
	fprintf(stderr, "%s: %s\n", x.path, strerror(errno));
	return 126;
}

const struct kind_ops kind_shell = {
	.name = "shell",
	.summary = "a command run with /bin/sh -c in the project",
	.spec_size = sizeof(struct shell_spec),
	.keys = shell_keys,
	.n_keys = sizeof shell_keys / sizeof shell_keys[0],
	.parse = shell_parse,
	.build = shell_build,
	.describe = shell_describe,
	.run = shell_run,
	.exec = shell_exec,
};
