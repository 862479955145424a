-- Login in one round trip: record the login and open the session (the first refresh
-- token of a new family), returning the user. Hand-written: a function.
-- SECURITY DEFINER because no scope exists yet at login; it touches only the user
-- whose password was just verified by the caller.
CREATE FUNCTION auth_start_session(p_user uuid, p_token_id uuid, p_token_hash text, p_family uuid,
                                   p_expires timestamptz, p_family_expires timestamptz)
  RETURNS SETOF users
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
  AS $$
    INSERT INTO refresh_tokens (id, user_id, token_hash, family_id, expires_at, family_expires_at)
      VALUES (p_token_id, p_user, p_token_hash, p_family, p_expires, p_family_expires);
    UPDATE users SET last_login_at = now() WHERE id = p_user RETURNING *;
  $$;

REVOKE ALL ON FUNCTION auth_start_session(uuid, uuid, text, uuid, timestamptz, timestamptz) FROM PUBLIC;
