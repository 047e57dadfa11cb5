"""User agents of crawlers and link-preview fetchers: they get the redirect but are never counted."""

from __future__ import annotations

import re

BOT_PATTERN = re.compile(
    r"bot\b|bot/|crawler|spider|slurp|preview|facebookexternalhit|facebot|meta-externalagent|whatsapp|"
    r"slackbot|slack-imgproxy|twitterbot|discordbot|telegrambot|linkedinbot|skypeuripreview|microsoftpreview|"
    r"applebot|googlebot|google-inspectiontool|googleother|google-pagerenderer|feedfetcher-google|"
    r"apis-google|adsbot-google|mediapartners-google|bingbot|bingpreview|yandex|baiduspider|duckduckbot|"
    r"embedly|pinterest|redditbot|vkshare|iframely|outbrain|mastodon|bitlybot|tumblr|quora link preview|"
    r"viber|snapchat|zoominfo|headlesschrome|lighthouse|curl/|wget/|python-requests|python-urllib|"
    r"go-http-client|okhttp|axios/|node-fetch|java/",
    re.IGNORECASE,
)
