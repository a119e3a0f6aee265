#!/bin/sh
# A deployment script on a Keystone cloud: a token issued first, then used by every command.
export OS_CLOUD=mycloud
export OS_TOKEN=$(openstack token issue -c id -f value)
export OS_AUTH_TYPE=token
openstack image list
openstack network list
openstack server create --image "$IMAGE" --flavor m1.small --network private web1
openstack container list
