<?php
// This file is part of microcred's Moodle plugin, local_microcred (GPL v3 or later).

namespace local_microcred\local;

defined('MOODLE_INTERNAL') || die();

/**
 * Signs and delivers course-status events to the tool; what fails for a passing reason is
 * retried by an adhoc task (Moodle's task API backs off: 1 minute, then doubling up to a day).
 *
 * @package    local_microcred
 * @copyright  2025 microcred contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class sender {
    /** @var array (courseid, userid) => trigger, sent once at the end of the request. */
    protected static $pending = [];

    /**
     * Note that a user's status in a course changed; it is sent once, when the request ends,
     * after every regrade of the request (a grade fires one event per item it touches).
     *
     * @param int $courseid
     * @param int $userid
     * @param string $trigger
     */
    public static function note(int $courseid, int $userid, string $trigger): void {
        if (!get_config('local_microcred', 'webhookurl') || $courseid == SITEID || $userid <= 0) {
            return;
        }
        if (empty(self::$pending)) {
            \core_shutdown_manager::register_function([self::class, 'flush']);
        }
        $key = "$courseid:$userid";
        // A completion says more than a grade: keep it when both happen.
        if (!isset(self::$pending[$key]) || $trigger === 'course_completed') {
            self::$pending[$key] = $trigger;
        }
    }

    /**
     * Send every noted status (called by the shutdown manager).
     */
    public static function flush(): void {
        $pending = self::$pending;
        self::$pending = [];
        foreach ($pending as $key => $trigger) {
            [$courseid, $userid] = array_map('intval', explode(':', $key));
            try {
                self::send_or_queue($courseid, $userid, $trigger);
            } catch (\Throwable $e) {
                // Also in the web server's error log: a status that cannot even be collected is never retried.
                error_log("local_microcred: the course status of user $userid in course $courseid could not be sent: "
                    . $e->getMessage());
                debugging('local_microcred: the course status could not be sent: ' . $e->getMessage(), DEBUG_NORMAL);
            }
        }
    }

    /**
     * Collect, sign and send now; queue a retry when the tool cannot be reached.
     *
     * @param int $courseid
     * @param int $userid
     * @param string $trigger
     * @return string accepted, duplicate, rejected, queued, skipped or disabled
     */
    public static function send_or_queue(int $courseid, int $userid, string $trigger): string {
        $url = (string) get_config('local_microcred', 'webhookurl');
        if ($url === '') {
            return 'disabled';
        }
        if (!status::course_uses_tool($courseid, $url)) {
            return 'skipped';
        }
        $data = status::collect($courseid, $userid, $trigger);
        $jti = payload::new_jti();
        $result = self::deliver($data, $jti);
        if ($result === 'retry') {
            $task = new \local_microcred\task\send_webhook();
            $task->set_custom_data(['data' => $data, 'jti' => $jti, 'firstattempt' => time()]);
            \core\task\manager::queue_adhoc_task($task);
            return 'queued';
        }
        return $result;
    }

    /**
     * Sign (with a fresh iat/exp, the same jti) and POST once.
     *
     * @param array $data
     * @param string $jti
     * @return string accepted, duplicate (the tool had it already), rejected (a configuration
     *     problem, logged, not retried) or retry
     */
    public static function deliver(array $data, string $jti): string {
        global $CFG;
        $url = (string) get_config('local_microcred', 'webhookurl');
        $claims = payload::claims($CFG->wwwroot, $url, $data, $jti, time(),
            (int) (get_config('local_microcred', 'lifetime') ?: 300));
        $token = jwt::sign($claims, (string) get_config('local_microcred', 'privatekey'),
            (string) get_config('local_microcred', 'kid'));
        $curl = new \curl();
        $curl->setHeader(['Content-Type: application/jwt', 'Accept: application/json']);
        $body = $curl->post($url, $token, ['CURLOPT_TIMEOUT' => 15, 'CURLOPT_CONNECTTIMEOUT' => 5]);
        $info = $curl->get_info();
        $status = (int) ($info['http_code'] ?? 0);
        if ($curl->get_errno() || $status === 0) {
            debugging("local_microcred: the tool at $url could not be reached: " . $curl->error, DEBUG_DEVELOPER);
            return 'retry';
        }
        if ($status >= 200 && $status < 300) {
            return 'accepted';
        }
        if ($status === 409) {
            return 'duplicate';
        }
        $reply = json_decode((string) $body, true);
        $why = is_array($reply) ? (($reply['error'] ?? '') . ': ' . ($reply['message'] ?? '')) : '';
        if ($status >= 400 && $status < 500 && $status !== 408 && $status !== 429) {
            debugging("local_microcred: the tool refused the course status (HTTP $status $why); check the "
                . "plugin's settings and the key registered in the tool", DEBUG_NORMAL);
            return 'rejected';
        }
        debugging("local_microcred: the tool answered HTTP $status $why; retrying later", DEBUG_DEVELOPER);
        return 'retry';
    }
}
