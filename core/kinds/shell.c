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

/* Looks argv[0] up on PATH and execs it; returns only if it is not a program. */
static void exec_simple(const char *cmd)
{
	char *copy = xstrdup(cmd), *save = NULL, *argv[64];
	int argc = 0;
	for (char *t = strtok_r(copy, " ", &save); t && argc < 63; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	if (argc == 0 || argc >= 63 || strchr(argv[0], '=')) {
		free(copy);
		return;
	}
	const char *path = getenv("PATH");
	char *dirs = xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *full = strchr(argv[0], '/') ? xstrdup(argv[0]) : path_join(d, argv[0]);
		if (access(full, X_OK) == 0) {
			execv(full, argv);
			fprintf(stderr, "%s: %s\n", full, strerror(errno));
			_exit(126);
		}
		free(full);
		if (strchr(argv[0], '/'))
			break;
	}
	free(dirs);
	free(copy);
}

static int shell_run(const json_t *spec, const struct task_env *env)
{
	const char *cwd = json_string_value(json_object_get(spec, "cwd"));
	if (cwd) {
		char *dir = path_join(env->root, cwd);
		if (chdir(dir) < 0) {
			fprintf(stderr, "cannot enter %s: %s\n", dir, strerror(errno));
			return 126;
		}
		free(dir);
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)json_object_get(spec, "env"), k, v)
		setenv(k, json_string_value(v) ? json_string_value(v) : "", 1);
	const char *cmd = json_string_value(json_object_get(spec, "command"));
	if (!cmd)
		cmd = "";
	/* A command with nothing for a shell to do (no quotes, variables,
	 * redirections, globs) whose first word is a program on PATH is run
	 * directly: one exec fewer. Builtins (exit, cd, export...) are not
	 * files, so they still go through the shell. */
	if (*cmd && strspn(cmd, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+- ") == strlen(cmd))
		exec_simple(cmd);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	fprintf(stderr, "exec /bin/sh: %s\n", strerror(errno));
	return 127;
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
};
