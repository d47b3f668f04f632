-- Remove the avatar image URL from user profiles.
ALTER TABLE user_profiles DROP COLUMN avatar_url;
