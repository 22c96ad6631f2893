<?php
// This file is part of microcred's Moodle plugin, local_microcred (GPL v3 or later).

namespace local_microcred\local;

defined('MOODLE_INTERNAL') || die();

/**
 * Compact JWTs signed with Ed25519 (EdDSA, RFC 8037) through PHP's sodium extension.
 *
 * No Moodle API here, so the signing can be tested on its own against the tool's verifier.
 * Keys are kept base64 encoded: the 64-byte sodium secret key and the 32-byte public key.
 *
 * @package    local_microcred
 * @copyright  2025 microcred contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class jwt {
    /**
     * Base64url without padding (RFC 7515).
     *
     * @param string $bytes
     * @return string
     */
    public static function b64url(string $bytes): string {
        return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
    }

    /**
     * A new Ed25519 key pair.
     *
     * @return array ['secret' => base64, 'public' => base64]
     */
    public static function generate_keypair(): array {
        $pair = sodium_crypto_sign_keypair();
        return [
            'secret' => base64_encode(sodium_crypto_sign_secretkey($pair)),
            'public' => base64_encode(sodium_crypto_sign_publickey($pair)),
        ];
    }

    /**
     * The public key as a JWK (OKP, Ed25519) with its RFC 7638 thumbprint as kid.
     *
     * @param string $publicb64
     * @return array
     */
    public static function public_jwk(string $publicb64): array {
        $public = base64_decode($publicb64, true);
        if ($public === false || strlen($public) !== SODIUM_CRYPTO_SIGN_PUBLICKEYBYTES) {
            throw new \InvalidArgumentException('the public key is not a base64 Ed25519 public key');
        }
        $jwk = ['crv' => 'Ed25519', 'kty' => 'OKP', 'x' => self::b64url($public)];
        $jwk['kid'] = self::thumbprint($jwk);
        $jwk['use'] = 'sig';
        $jwk['alg'] = 'EdDSA';
        return $jwk;
    }

    /**
     * RFC 7638 thumbprint of an OKP key: SHA-256 of {"crv","kty","x"} in that order, no spaces.
     *
     * @param array $jwk
     * @return string
     */
    public static function thumbprint(array $jwk): string {
        $canonical = json_encode(['crv' => $jwk['crv'], 'kty' => $jwk['kty'], 'x' => $jwk['x']],
            JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
        return self::b64url(hash('sha256', $canonical, true));
    }

    /**
     * Sign claims as a compact JWS: header {"alg":"EdDSA","kid":...,"typ":"JWT"}.
     *
     * @param array $claims
     * @param string $secretb64 the 64-byte sodium secret key, base64
     * @param string $kid
     * @return string
     */
    public static function sign(array $claims, string $secretb64, string $kid): string {
        $secret = base64_decode($secretb64, true);
        if ($secret === false || strlen($secret) !== SODIUM_CRYPTO_SIGN_SECRETKEYBYTES) {
            throw new \InvalidArgumentException('the private key is not a base64 Ed25519 secret key');
        }
        $header = ['alg' => 'EdDSA', 'kid' => $kid, 'typ' => 'JWT'];
        $input = self::b64url(self::json($header)) . '.' . self::b64url(self::json($claims));
        return $input . '.' . self::b64url(sodium_crypto_sign_detached($input, $secret));
    }

    /**
     * JSON as the tool reads it (UTF-8, slashes and floats kept as they are).
     *
     * @param array $value
     * @return string
     */
    public static function json(array $value): string {
        $json = json_encode($value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION);
        if ($json === false) {
            throw new \InvalidArgumentException('the claims cannot be encoded as JSON: ' . json_last_error_msg());
        }
        return $json;
    }
}
