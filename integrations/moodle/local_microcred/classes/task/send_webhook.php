<?php
// This file is part of microcred's Moodle plugin, local_microcred (GPL v3 or later).

namespace local_microcred\task;

defined('MOODLE_INTERNAL') || die();

use local_microcred\local\sender;

/**
 * Retry of a course status the tool could not take at once (adhoc task).
 *
 * The same jti on every attempt, so a delivery that reached the tool before its answer was
 * lost is recognised (409) and not counted twice. Throwing makes Moodle run the task again
 * later, with its growing fail delay; after MAX_AGE the status is dropped (a later grade or
 * completion sends a fresh one, and the tool's own sync catches up).
 *
 * @package    local_microcred
 * @copyright  2025 microcred contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class send_webhook extends \core\task\adhoc_task {
    /** Give up after three days. */
    const MAX_AGE = 3 * DAYSECS;

    /**
     * Name shown in the task logs.
     *
     * @return string
     */
    public function get_name() {
        return get_string('tasksendwebhook', 'local_microcred');
    }

    /**
     * Deliver once more.
     */
    public function execute() {
        $custom = $this->get_custom_data();
        $data = json_decode(json_encode($custom->data), true);
        if (time() - (int) $custom->firstattempt > self::MAX_AGE) {
            mtrace('local_microcred: dropped a course status older than three days (jti ' . $custom->jti . ')');
            return;
        }
        $result = sender::deliver($data, (string) $custom->jti);
        mtrace("local_microcred: course status {$custom->jti}: $result");
        if ($result === 'retry') {
            throw new \moodle_exception('deliveryfailed', 'local_microcred');
        }
    }
}
