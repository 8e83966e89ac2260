/* The console's action table: every action has help, keys are unique where
 * their views overlap, `:` names are unique, batch names are real commands. */
#include <stdio.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "tui/actions.h"

/* The commands of cli/main.c (the `--batch` face). */
static const char *const batch_commands[] = {"run",   "status", "logs", "retry",  "clear",  "mark",
					     "validate", "up", "down", "runner", "worker", "checks",
					     "report", "backfill", "connections", "tables", "rows", "rejects"};

static void test_every_action_has_help(void **state)
{
	for (int i = 0; i < ACT_COUNT; i++) {
		const struct action_info *a = action_info((enum action)i);
		assert_non_null(a);
		assert_int_equal(a->id, i);
		assert_non_null(a->help);
		assert_true(strlen(a->help) > 5);
		/* reachable somehow: a key or a command */
		assert_true(a->key != 0 || a->command != NULL);
		assert_true(a->views != 0);
	}
}

static void test_keys_unique_per_view(void **state)
{
	for (int i = 0; i < ACT_COUNT; i++) {
		const struct action_info *a = action_info((enum action)i);
		int keys[2] = {a->key, a->key2};
		for (int k = 0; k < 2; k++) {
			if (!keys[k])
				continue;
			if (k == 1)
				assert_int_not_equal(keys[0], keys[1]);
			for (int j = i + 1; j < ACT_COUNT; j++) {
				const struct action_info *b = action_info((enum action)j);
				if (!(a->views & b->views))
					continue;
				if (b->key == keys[k] || b->key2 == keys[k]) {
					char buf[16];
					fail_msg("key %s is bound to both action %d and %d", key_label(keys[k], buf, sizeof buf), i, j);
				}
			}
		}
	}
}

static void test_lookup_by_view(void **state)
{
	assert_int_equal(keymap_lookup('j', VK_PIPELINES), ACT_DOWN);
	assert_int_equal(keymap_lookup(TK_DOWN, VK_DAG), ACT_DOWN);
	assert_int_equal(keymap_lookup('r', VK_TASK), ACT_RETRY);
	assert_int_equal(keymap_lookup('r', VK_HELP), -1);       /* nothing to retry there */
	assert_int_equal(keymap_lookup('f', VK_TASK), ACT_FOLLOW);
	assert_int_equal(keymap_lookup('f', VK_PIPELINES), -1);
	assert_int_equal(keymap_lookup(TK_ESC, VK_GRID), ACT_BACK);
	assert_int_equal(keymap_lookup(0, VK_ALL), -1);
	/* the table browser: its keys in the rows view, not elsewhere */
	assert_int_equal(keymap_lookup('9', VK_PIPELINES), ACT_TABLES);
	assert_int_equal(keymap_lookup('0', VK_TABLES), ACT_TABLE_ROWS);
	assert_int_equal(keymap_lookup('s', VK_ROWS), ACT_SORT);
	assert_int_equal(keymap_lookup('s', VK_TABLES), -1);
	assert_int_equal(keymap_lookup('p', VK_ROWS), ACT_PROFILE);
	assert_int_equal(keymap_lookup('p', VK_BACKFILLS), ACT_BF_PAUSE);
	assert_int_equal(keymap_lookup('x', VK_ROWS), ACT_ROWS_CSV);
	assert_int_equal(keymap_lookup('x', VK_REPORTS), ACT_EXPORT_CSV);
	assert_int_equal(keymap_lookup('G', VK_ROWS), ACT_BOTTOM);
	bool amb;
	assert_int_equal(action_by_command("tables", &amb), ACT_TABLES);
	assert_int_equal(action_by_command("where", &amb), ACT_WHERE);
	/* the rejects view opens from anywhere; the x-ray keys are the task view's */
	assert_int_equal(keymap_lookup('R', VK_GRID), ACT_REJECTS);
	assert_int_equal(keymap_lookup('R', VK_TASK), ACT_REJECTS);
	assert_int_equal(keymap_lookup('e', VK_TASK), ACT_XR_TAIL);
	assert_int_equal(keymap_lookup('b', VK_TASK), ACT_XR_ROWS);
	assert_int_equal(keymap_lookup('i', VK_TASK), ACT_XR_READS);
	assert_int_equal(keymap_lookup('u', VK_TASK), ACT_XR_UPSTREAM);
	assert_int_equal(keymap_lookup('e', VK_CONNECTIONS), -1); /* the view's own edit key */
	assert_int_equal(keymap_lookup('u', VK_GRID), -1);
}

static void test_commands_unique_and_found(void **state)
{
	for (int i = 0; i < ACT_COUNT; i++) {
		const char *c = action_info((enum action)i)->command;
		if (!c)
			continue;
		bool amb;
		assert_int_equal(action_by_command(c, &amb), i);
		for (int j = i + 1; j < ACT_COUNT; j++) {
			const char *d = action_info((enum action)j)->command;
			if (d)
				assert_string_not_equal(c, d);
		}
	}
	bool amb;
	assert_int_equal(action_by_command("pipe", &amb), ACT_PIPELINES);
	assert_int_equal(action_by_command("mark", &amb), -1);  /* mark-success or mark-failed */
	assert_true(amb);
	assert_int_equal(action_by_command("nosuch", &amb), -1);
	assert_false(amb);
	assert_int_equal(action_by_command("", &amb), -1);
}

static void test_batch_names_are_commands(void **state)
{
	for (int i = 0; i < ACT_COUNT; i++) {
		const struct action_info *a = action_info((enum action)i);
		if (!a->batch)
			continue;
		bool found = false;
		for (size_t k = 0; k < sizeof batch_commands / sizeof batch_commands[0]; k++)
			found |= !strcmp(a->batch, batch_commands[k]);
		if (!found)
			fail_msg("action %s: no batch command '%s'", a->command ? a->command : "?", a->batch);
	}
	/* what changes state has a batch form, and is marked so --readonly hides it */
	const enum action writes[] = {ACT_TRIGGER, ACT_RETRY, ACT_CLEAR, ACT_MARK_SUCCESS, ACT_MARK_FAILED,
				      ACT_BACKFILL, ACT_BF_PAUSE, ACT_BF_CANCEL};
	for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
		assert_non_null(action_info(writes[i])->batch);
		assert_true(action_info(writes[i])->flags & AF_WRITE);
	}
	for (int i = 0; i < ACT_COUNT; i++) {
		bool w = false;
		for (size_t k = 0; k < sizeof writes / sizeof writes[0]; k++)
			w |= writes[k] == (enum action)i;
		if (!w)
			assert_false(action_info((enum action)i)->flags & AF_WRITE);
	}
}

/* The views come from the action table's VIEW() entries: one action opens
 * each, their bits make VK_ALL, their traits the sets actions name. */
static void test_views_from_the_table(void **state)
{
	assert_int_equal(VK_ALL, (1 << VIEW_COUNT) - 1);
	int opened[VIEW_COUNT] = {0};
	for (int i = 0; i < ACT_COUNT; i++) {
		const struct action_info *a = action_info((enum action)i);
		assert_true(a->view >= -1 && a->view < VIEW_COUNT);
		if (a->view >= 0) {
			opened[a->view]++;
			/* a view opens from anywhere, by key and by name */
			assert_int_equal(a->views, VK_ALL);
			assert_non_null(a->command);
		}
	}
	for (int v = 0; v < VIEW_COUNT; v++)
		assert_int_equal(opened[v], 1);
	assert_int_equal(action_info(ACT_RUNS)->view, VI_GRID);
	assert_int_equal(action_info(ACT_QUIT)->view, -1);
	assert_int_equal(VK_TASKS, VK_GRID | VK_DAG | VK_TASK | VK_CHECKS);
	assert_int_equal(action_info(ACT_REJECTS)->view, VI_REJECTS);
	assert_int_equal(VK_RUNNABLE, VK_PIPELINES | VK_GRID | VK_DAG | VK_TASK);
	assert_int_equal(VK_OPENS, VK_PIPELINES | VK_GRID | VK_DAG | VK_CHECKS | VK_REPORTS | VK_BACKFILLS | VK_HISTORY |
				   VK_CONNECTIONS | VK_TABLES | VK_ROWS);
}

static void test_key_labels(void **state)
{
	char buf[16];
	assert_string_equal(key_label('j', buf, sizeof buf), "j");
	assert_string_equal(key_label(TK_CTRL('L'), buf, sizeof buf), "^L");
	assert_string_equal(key_label(TK_ESC, buf, sizeof buf), "Esc");
	assert_string_equal(key_label(TK_ENTER, buf, sizeof buf), "Enter");
	assert_string_equal(key_label(TK_NPAGE, buf, sizeof buf), "PgDn");
	assert_string_equal(key_label(TK_F1, buf, sizeof buf), "F1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_action_has_help),
		cmocka_unit_test(test_keys_unique_per_view),
		cmocka_unit_test(test_lookup_by_view),
		cmocka_unit_test(test_commands_unique_and_found),
		cmocka_unit_test(test_batch_names_are_commands),
		cmocka_unit_test(test_views_from_the_table),
		cmocka_unit_test(test_key_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
