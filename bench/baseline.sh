#!/usr/bin/env bash
# The well-known shell clean-up, as found in countless blog posts and CI scripts: for each tag,
# read its digest with one Accept header, then delete the manifest by that digest. One tag after
# another. Reads "repository tag" lines on stdin; prints "repository tag digest status" per tag.
#
#   bash bench/baseline.sh http://127.0.0.1:5000 < tags.txt
registry=$1
while read -r repository tag; do
  digest=$(curl -sI -H "Accept: application/vnd.docker.distribution.manifest.v2+json" \
    "$registry/v2/$repository/manifests/$tag" | tr -d '\r' |
    awk -F': ' 'tolower($1) == "docker-content-digest" { print $2 }')
  status=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$registry/v2/$repository/manifests/$digest")
  echo "$repository $tag ${digest:--} $status"
done
