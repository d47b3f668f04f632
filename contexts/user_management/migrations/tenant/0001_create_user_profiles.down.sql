-- Drop the per-tenant user profiles table.
DROP INDEX user_profiles_user_id_idx;

DROP TABLE user_profiles;
