<?php
// This file is part of microcred's Moodle plugin, local_microcred (GPL v3 or later).

/**
 * English strings of local_microcred.
 *
 * @package    local_microcred
 * @copyright  2025 microcred contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['allcourses'] = 'Send for every course';
$string['allcourses_desc'] = 'By default a course status is sent only for courses with an activity of the microcred tool. Tick to send for every course.';
$string['deliveryfailed'] = 'The microcred tool could not take the course status; it will be sent again.';
$string['keypage'] = 'microcred public key';
$string['keypage_command'] = 'On the microcred tool, register this key once (the tool then fetches it, and any new key, from the URL above):';
$string['keypage_intro'] = 'The microcred tool checks each course status this site sends against this public key. It is published here:';
$string['keyregenerated'] = 'A new key pair was generated. The tool fetches the new public key from the key URL; if it was given a key file, register the new key there.';
$string['lifetime'] = 'Token lifetime (seconds)';
$string['lifetime_desc'] = 'How long each signed course status stays valid (at most 600 seconds).';
$string['pluginname'] = 'microcred';
$string['privacy:metadata:microcred'] = 'To issue micro-credentials, the course status of a user (completion and grades) is sent to the microcred tool when they complete a course or are graded in a course that uses the tool.';
$string['privacy:metadata:microcred:completion'] = 'Whether the user completed the course, and which completion criteria are still missing.';
$string['privacy:metadata:microcred:courseid'] = 'The course id.';
$string['privacy:metadata:microcred:email'] = 'The user\'s e-mail address, only if the administrator allows it.';
$string['privacy:metadata:microcred:fullname'] = 'The user\'s full name, only if the administrator allows it.';
$string['privacy:metadata:microcred:grades'] = 'The user\'s course total and grades, with each grade to pass.';
$string['privacy:metadata:microcred:userid'] = 'The user id (the same identifier the External tool launches send).';
$string['regeneratekey'] = 'Generate a new key pair';
$string['sendpii'] = 'Send names and e-mail addresses';
$string['sendpii_desc'] = 'Off by default: the tool then knows learners only by their user id, as when the External tool\'s privacy settings say "Never". Tick only if the tool may know learners\' names and e-mail addresses.';
$string['settings_intro'] = 'When a learner completes a course or is graded, this site sends the microcred tool a signed course status, so that their micro-credential is issued within seconds. The tool must know this site\'s public key: see <a href="{$a}">the public key page</a>.';
$string['tasksendwebhook'] = 'Send a course status to the microcred tool';
$string['webhookurl'] = 'Tool webhook URL';
$string['webhookurl_desc'] = 'The microcred tool\'s Moodle webhook, for example https://microcred.example.org/api/webhooks/moodle. Nothing is sent while it is empty.';
