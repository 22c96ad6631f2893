<?php
// This file is part of microcred's Moodle plugin, local_microcred (GPL v3 or later).

/**
 * Settings: Site administration > Plugins > Local plugins > microcred.
 *
 * @package    local_microcred
 * @copyright  2025 microcred contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

if ($hassiteconfig) {
    $settings = new admin_settingpage('local_microcred', get_string('pluginname', 'local_microcred'));
    $ADMIN->add('localplugins', $settings);
    $ADMIN->add('localplugins', new admin_externalpage('local_microcred_key', get_string('keypage', 'local_microcred'),
        new moodle_url('/local/microcred/key.php')));

    if ($ADMIN->fulltree) {
        $settings->add(new admin_setting_heading('local_microcred/intro', '',
            get_string('settings_intro', 'local_microcred',
                (new moodle_url('/local/microcred/key.php'))->out(false))));
        $settings->add(new admin_setting_configtext('local_microcred/webhookurl',
            get_string('webhookurl', 'local_microcred'), get_string('webhookurl_desc', 'local_microcred'),
            '', PARAM_URL, 60));
        $settings->add(new admin_setting_configcheckbox('local_microcred/sendpii',
            get_string('sendpii', 'local_microcred'), get_string('sendpii_desc', 'local_microcred'), 0));
        $settings->add(new admin_setting_configcheckbox('local_microcred/allcourses',
            get_string('allcourses', 'local_microcred'), get_string('allcourses_desc', 'local_microcred'), 0));
        $settings->add(new admin_setting_configtext('local_microcred/lifetime',
            get_string('lifetime', 'local_microcred'), get_string('lifetime_desc', 'local_microcred'),
            300, PARAM_INT, 5));
    }
}
