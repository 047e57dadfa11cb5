"""User agents of crawlers and link-preview fetchers: they get the redirect but are never counted."""

from __future__ import annotations

import re

BOT_PATTERN = re.compile(
    r"bot\b|crawler|spider|slurp|preview|facebookexternalhit|facebot|whatsapp|slackbot|slack-imgproxy|"
    r"twitterbot|discordbot|telegrambot|linkedinbot|skypeuripreview|applebot|googlebot|google-inspectiontool|"
    r"bingbot|yandex|baiduspider|duckduckbot|embedly|pinterest|redditbot|vkshare|iframely|outbrain|"
    r"mastodon|bitlybot|tumblr|quora link preview|curl/|wget/|python-requests|go-http-client",
    re.IGNORECASE,
)
