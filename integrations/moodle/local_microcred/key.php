<?php
// This file is part of microcred's Moodle plugin, local_microcred (GPL v3 or later).

/**
 * The admin's public key page: what to register in the tool, and a new key pair on request.
 *
 * @package    local_microcred
 * @copyright  2025 microcred contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

require(__DIR__ . '/../../config.php');
require_once($CFG->libdir . '/adminlib.php');

admin_externalpage_setup('local_microcred_key');

if (optional_param('regenerate', 0, PARAM_BOOL) && confirm_sesskey()) {
    \local_microcred\local\keys::generate();
    redirect($PAGE->url, get_string('keyregenerated', 'local_microcred'), null, \core\output\notification::NOTIFY_SUCCESS);
}

$jwksurl = new moodle_url('/local/microcred/jwks.php');
$jwks = \local_microcred\local\keys::jwks();
$command = 'microcred bridge set --issuer ' . $CFG->wwwroot . ' --moodle-webhook-jwks-url ' . $jwksurl->out(false);

echo $OUTPUT->header();
echo $OUTPUT->heading(get_string('keypage', 'local_microcred'));
echo html_writer::tag('p', get_string('keypage_intro', 'local_microcred'));
echo html_writer::tag('p', html_writer::link($jwksurl, $jwksurl->out(false)));
echo html_writer::tag('p', get_string('keypage_command', 'local_microcred'));
echo html_writer::tag('pre', s($command), ['id' => 'local-microcred-command']);
echo html_writer::tag('pre', s(json_encode($jwks, JSON_UNESCAPED_SLASHES | JSON_PRETTY_PRINT)),
    ['id' => 'local-microcred-jwks']);
echo $OUTPUT->single_button(new moodle_url($PAGE->url, ['regenerate' => 1, 'sesskey' => sesskey()]),
    get_string('regeneratekey', 'local_microcred'), 'post');
echo $OUTPUT->footer();
