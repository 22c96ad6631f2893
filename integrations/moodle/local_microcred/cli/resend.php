<?php
// This file is part of microcred's Moodle plugin, local_microcred (GPL v3 or later).

/**
 * Send the course status of a course's users now (after installing the plugin, or to catch up).
 *
 * php local/microcred/cli/resend.php --course=2 [--user=4]
 *
 * @package    local_microcred
 * @copyright  2025 microcred contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

define('CLI_SCRIPT', true);

require(__DIR__ . '/../../../config.php');
require_once($CFG->libdir . '/clilib.php');

[$options, $unrecognised] = cli_get_params(['course' => 0, 'user' => 0, 'help' => false], ['h' => 'help']);
if ($unrecognised) {
    cli_error('unknown option: ' . implode(', ', $unrecognised));
}
if ($options['help'] || !$options['course']) {
    echo "Send the course status of every enrolled user (or one) to the microcred tool now.\n\n" .
        "php local/microcred/cli/resend.php --course=ID [--user=ID]\n";
    exit($options['help'] ? 0 : 2);
}
$courseid = (int) $options['course'];
if (!$DB->record_exists('course', ['id' => $courseid])) {
    cli_error("no course with id $courseid");
}
if (!get_config('local_microcred', 'webhookurl')) {
    cli_error('the tool webhook URL is not set (Site administration > Plugins > Local plugins > microcred)');
}
$users = $options['user'] ? [(int) $options['user']]
    : array_keys(get_enrolled_users(context_course::instance($courseid), '', 0, 'u.id'));
$failed = 0;
foreach ($users as $userid) {
    $result = \local_microcred\local\sender::send_or_queue($courseid, $userid, 'resend');
    mtrace("user $userid: $result");
    $failed += in_array($result, ['rejected', 'queued'], true) ? 1 : 0;
}
exit($failed ? 1 : 0);
