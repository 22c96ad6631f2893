<?php
// This file is part of microcred's Moodle plugin, local_microcred (GPL v3 or later).

namespace local_microcred\local;

defined('MOODLE_INTERNAL') || die();

/**
 * The site's webhook signing key pair, in the plugin's configuration.
 *
 * @package    local_microcred
 * @copyright  2025 microcred contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class keys {
    /**
     * Generate (or replace) the key pair. The tool must then fetch the new public key
     * (it does when it registered the JWKS URL; a key file must be registered again).
     *
     * @return array the public JWK
     */
    public static function generate(): array {
        $pair = jwt::generate_keypair();
        $jwk = jwt::public_jwk($pair['public']);
        set_config('privatekey', $pair['secret'], 'local_microcred');
        set_config('publickey', $pair['public'], 'local_microcred');
        set_config('kid', $jwk['kid'], 'local_microcred');
        return $jwk;
    }

    /**
     * The public key set (JWKS) to publish; empty when no key was generated.
     *
     * @return array
     */
    public static function jwks(): array {
        $public = (string) get_config('local_microcred', 'publickey');
        return ['keys' => $public === '' ? [] : [jwt::public_jwk($public)]];
    }
}
